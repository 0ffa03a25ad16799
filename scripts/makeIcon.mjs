// Draws the marketplace icon, media/icon.png (128x128 RGBA), from the activity-bar mark in media/trainq.svg:
// three queue bars of falling length and a play triangle, white on a rounded blue square. Written by hand
// (shapes as signed distances, 4x4 supersampling, zlib for the PNG) so that no image library is needed.
// Run: node scripts/makeIcon.mjs
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const SIZE = 128;
const SCALE = SIZE / 24; // the SVG's 24-unit grid
const BACKGROUND = [30, 58, 95];
const FOREGROUND = [255, 255, 255];
const ACCENT = [255, 166, 48];

/** Signed distance to a rounded rectangle (negative inside), in pixels. */
function roundedRect(x, y, left, top, width, height, radius) {
  const dx = Math.abs(x - (left + width / 2)) - (width / 2 - radius);
  const dy = Math.abs(y - (top + height / 2)) - (height / 2 - radius);
  return Math.hypot(Math.max(dx, 0), Math.max(dy, 0)) + Math.min(Math.max(dx, dy), 0) - radius;
}

/** Inside the triangle (a, b, c), by the signs of the three edge functions. */
function inTriangle(x, y, [a, b, c]) {
  const edge = (p, q) => (q[0] - p[0]) * (y - p[1]) - (q[1] - p[1]) * (x - p[0]);
  const [e1, e2, e3] = [edge(a, b), edge(b, c), edge(c, a)];
  return (e1 >= 0 && e2 >= 0 && e3 >= 0) || (e1 <= 0 && e2 <= 0 && e3 <= 0);
}

const u = (v) => v * SCALE;
// The SVG's bars (x 3, widths 18/13/8, height 4), drawn filled and a little inset from the square's edge.
const bars = [
  [3, 4, 18],
  [3, 10, 13],
  [3, 16, 8],
].map(([x, y, w]) => [u(x), u(y), u(w), u(4), u(1)]);
const triangle = [
  [u(15.5), u(13.5)],
  [u(21.5), u(18)],
  [u(15.5), u(22.5)],
];

/** The colour at a sample point: [r, g, b, a] with a in 0..1. */
function sample(x, y) {
  if (roundedRect(x, y, 0, 0, SIZE, SIZE, 22) > 0) return [0, 0, 0, 0];
  if (inTriangle(x, y, triangle)) return [...ACCENT, 1];
  if (bars.some(([l, t, w, h, r]) => roundedRect(x, y, l, t, w, h, r) <= 0)) return [...FOREGROUND, 1];
  return [...BACKGROUND, 1];
}

const N = 4;
const rows = [];
for (let py = 0; py < SIZE; py++) {
  const row = Buffer.alloc(1 + SIZE * 4); // filter byte 0 (None), then RGBA
  for (let px = 0; px < SIZE; px++) {
    let [r, g, b, a] = [0, 0, 0, 0];
    for (let sy = 0; sy < N; sy++) {
      for (let sx = 0; sx < N; sx++) {
        const [cr, cg, cb, ca] = sample(px + (sx + 0.5) / N, py + (sy + 0.5) / N);
        r += cr * ca;
        g += cg * ca;
        b += cb * ca;
        a += ca;
      }
    }
    const o = 1 + px * 4;
    // Colours are averaged weighted by coverage (premultiplied), then stored straight, as PNG wants.
    row[o] = a ? Math.round(r / a) : 0;
    row[o + 1] = a ? Math.round(g / a) : 0;
    row[o + 2] = a ? Math.round(b / a) : 0;
    row[o + 3] = Math.round((a / (N * N)) * 255);
  }
  rows.push(row);
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const byte of buf) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}
const header = Buffer.alloc(13);
header.writeUInt32BE(SIZE, 0);
header.writeUInt32BE(SIZE, 4);
header[8] = 8; // bit depth
header[9] = 6; // RGBA
const png = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  chunk('IHDR', header),
  chunk('IDAT', deflateSync(Buffer.concat(rows), { level: 9 })),
  chunk('IEND', Buffer.alloc(0)),
]);
const target = new URL('../media/icon.png', import.meta.url);
writeFileSync(target, png);
console.log(`wrote ${target.pathname} (${png.length} bytes)`);
