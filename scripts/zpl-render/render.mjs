// Renders ZPL to PNG offline (zpl-renderer-js, a WASM build of the zebrash renderer), so tests
// can read back what Waystation sends to a label printer without a printer or a web service.
//
//   node scripts/zpl-render/render.mjs --size 4x6in --dpi 203 --out label.png [file.zpl | -]
//
// --size   label width x height, in "in" or "mm" (4x6in, 50x30mm); default 4x6in
// --dpi    the printer head: 152, 203, 300 or 600; default 203
// --out    the PNG to write; when the ZPL holds several labels (^XA...^XZ blocks), they are
//          written as out-1.png, out-2.png, ... next to it
// input    a ZPL file, or "-" / nothing for stdin
//
// Prints the path of every PNG written, one a line. Exits 2 on bad arguments, 1 when the
// renderer fails.

import fs from "node:fs";
import path from "node:path";
import { ready } from "zpl-renderer-js";

// Zebra heads are specified in dots per millimetre; "203 dpi" is 8 dots/mm, "300 dpi" 12.
const DPMM = { 152: 6, 203: 8, 300: 12, 600: 24 };

function usage(message) {
  process.stderr.write(
    `${message}\nusage: render.mjs [--size 4x6in|50x30mm] [--dpi 203|300] --out out.png [file.zpl|-]\n`,
  );
  process.exit(2);
}

function parseSize(text) {
  const m = /^(\d+(?:\.\d+)?)x(\d+(?:\.\d+)?)(in|mm)$/i.exec(text.trim());
  if (!m) usage(`label size "${text}" is not like 4x6in or 50x30mm`);
  const unit = m[3].toLowerCase() === "in" ? 25.4 : 1;
  return [Number(m[1]) * unit, Number(m[2]) * unit];
}

function parseArgs(argv) {
  const opts = { size: "4x6in", dpi: "203", out: null, input: "-" };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--size" || arg === "--dpi" || arg === "--out") {
      if (i + 1 >= argv.length) usage(`${arg} needs a value`);
      opts[arg.slice(2)] = argv[++i];
    } else if (arg.startsWith("--")) {
      usage(`unknown option ${arg}`);
    } else {
      opts.input = arg;
    }
  }
  if (!opts.out) usage("--out is required");
  const dpmm = DPMM[opts.dpi];
  if (!dpmm) usage(`dpi ${opts.dpi} is not one of ${Object.keys(DPMM).join(", ")}`);
  const [widthMm, heightMm] = parseSize(opts.size);
  return { widthMm, heightMm, dpmm, out: opts.out, input: opts.input };
}

function outputPaths(out, count) {
  if (count === 1) return [out];
  const ext = path.extname(out) || ".png";
  const stem = out.slice(0, out.length - path.extname(out).length);
  return Array.from({ length: count }, (_, i) => `${stem}-${i + 1}${ext}`);
}

const opts = parseArgs(process.argv.slice(2));
const zpl = fs.readFileSync(opts.input === "-" ? 0 : opts.input, "utf8");
try {
  const { api } = await ready;
  const images = await api.zplToBase64MultipleAsync(zpl, opts.widthMm, opts.heightMm, opts.dpmm);
  if (!images.length) throw new Error("the ZPL holds no label (^XA...^XZ)");
  const paths = outputPaths(opts.out, images.length);
  images.forEach((b64, i) => fs.writeFileSync(paths[i], Buffer.from(b64, "base64")));
  process.stdout.write(paths.join("\n") + "\n");
} catch (err) {
  process.stderr.write(`ZPL could not be rendered: ${err?.stack ?? err}\n`);
  process.exit(1);
}
