/**
 * The `trainq.agent.backend` setting's values, apart from backend.ts so that code reading settings
 * (the extension host) does not load TensorFlow.js to check one string.
 */
export type BackendPreference = 'auto' | 'tensorflow' | 'wasm' | 'cpu';
export const BACKEND_PREFERENCES: readonly BackendPreference[] = ['auto', 'tensorflow', 'wasm', 'cpu'];
export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

export function isBackendPreference(value: unknown): value is BackendPreference {
  return typeof value === 'string' && (BACKEND_PREFERENCES as readonly string[]).includes(value);
}
