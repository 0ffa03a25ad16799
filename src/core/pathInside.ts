/**
 * Whether a path lies inside a folder, decided on the paths as written: symlinks are not followed (a
 * link inside the folder counts as inside wherever it points), which is how VS Code's
 * getWorkspaceFolder and the remote hosts' mapping into the synced copy have always compared them.
 */
import * as path from 'node:path';

type PathApi = Pick<typeof path, 'relative' | 'resolve' | 'isAbsolute' | 'sep'>;

/**
 * `target` relative to `root` ('' for the folder itself), or undefined when it lies outside. Outside
 * means the relative path climbs out, its first segment being exactly '..'; a file named '..name.py' or
 * '...py' is a child like any other, which a plain startsWith('..') took for a climb. A target on
 * another Windows drive gives an absolute relative path: outside too. `api` is for testing win32 paths.
 */
export function relativeInside(root: string, target: string, api: PathApi = path): string | undefined {
  const rel = api.relative(api.resolve(root), api.resolve(target));
  if (rel === '..' || rel.startsWith(`..${api.sep}`) || api.isAbsolute(rel)) {
    return undefined;
  }
  return rel;
}
