// Builds the npm module into pkg/ (and the inspector's copy into www/pkg/):
//   cargo (wasm32, feature "wasm") -> wasm-bindgen (nodejs + web targets) -> wasm-opt -O3
//   -> entries for require, import, browsers/bundlers and workerd, types and package.json.
// Usage: node scripts/build-pkg.mjs
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { transformSync } from "esbuild";
import { chmodSync, copyFileSync, cpSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildersSource } from "./builders.mjs";
import { withEventTypes } from "./types.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const pkg = join(root, "pkg");
const name = "zego_callback";
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: "inherit" });

const cargoToml = readFileSync(join(root, "Cargo.toml"), "utf8");
const version = cargoToml.match(/^version = "(.+)"/m)[1];

// The "npm" profile (Cargo.toml) optimizes for speed; the Worker's "release" for size.
// `cargo rustc` passes flags to this crate only: LLVM's inline threshold lowered to 60 (from
// its default of 250 at -O3), for this crate's code and at the link, where LTO inlines across
// crates, takes the gzipped wasm from about 64.0 KB to 58.5 KB; a receive's median cost moved
// by about 2% in alternating runs in one process (README, Speed and size). Lowered for every
// crate instead (RUSTFLAGS), SHA-1's rounds are no longer inlined in its block function, and
// a receive ran 15-19% slower (at 10). The size does not fall steadily with the threshold
// (20 and 40 give about 59.8 KB, 100 about 60.1 KB): measure again before moving it.
// NPM_INLINE_THRESHOLD overrides it, for such measurements.
const threshold = process.env.NPM_INLINE_THRESHOLD ?? "60";
run("cargo", [
  ...["rustc", "--lib", "--crate-type", "cdylib", "--profile", "npm", "--target", "wasm32-unknown-unknown", "--features", "wasm"],
  ...["--", "-C", `llvm-args=-inline-threshold=${threshold}`],
]);
const wasm = join(root, "target/wasm32-unknown-unknown/npm", `${name}.wasm`);

// The features Rust's wasm32 target uses by default; every runtime we support has them.
const features = [
  "--enable-bulk-memory",
  "--enable-mutable-globals",
  "--enable-nontrapping-float-to-int",
  "--enable-sign-ext",
  "--enable-reference-types",
  "--enable-multivalue",
];
const wasmOpt = join(root, "node_modules/.bin/wasm-opt");

function bindgen(target, outDir) {
  rmSync(outDir, { recursive: true, force: true });
  run("wasm-bindgen", ["--target", target, "--no-typescript", "--out-dir", outDir, "--out-name", name, wasm]);
  return join(outDir, `${name}_bg.wasm`);
}

rmSync(pkg, { recursive: true, force: true });
mkdirSync(pkg, { recursive: true });
const webWasm = bindgen("web", join(pkg, "web"));
// One .wasm for every entry: the Node glue (CommonJS, which reads its wasm synchronously
// with fs) reads the web glue's. wasm-bindgen writes the same wasm for both targets; the
// build stops if it ever does not.
const nodeWasm = bindgen("nodejs", join(pkg, "node"));
if (!readFileSync(nodeWasm).equals(readFileSync(webWasm))) {
  throw new Error("wasm-bindgen wrote different wasm for the nodejs and web targets: they cannot share one file");
}
rmSync(nodeWasm);
// -O3 rather than -Oz: measured, the wasm receive ran 5-8% faster and gzipped 75 bytes
// smaller (rustc has already optimized it at opt-level 3; -Oz undid some of that).
run(wasmOpt, ["-O3", ...features, "--strip-debug", "--strip-producers", webWasm, "-o", webWasm]);
// The web glue is an ES module; name it so, since the package is not "type": "module" and
// tools that go by extension (bundlers, Miniflare) would read a .js file as CommonJS.
const webGlue = join(pkg, "web", `${name}.mjs`);
writeFileSync(webGlue, readFileSync(join(pkg, "web", `${name}.js`)));
rmSync(join(pkg, "web", `${name}.js`));
const nodeGlue = join(pkg, "node", `${name}.js`);
const glue = readFileSync(nodeGlue, "utf8");
const wasmPath = "const wasmPath = `${__dirname}/" + name + "_bg.wasm`;";
if (!glue.includes(wasmPath)) throw new Error(`the nodejs glue no longer reads its wasm by ${wasmPath}`);
writeFileSync(nodeGlue, glue.replace(wasmPath, "const wasmPath = `${__dirname}/../web/" + name + "_bg.wasm`;"));

// The API over the wasm (api.js), then the framework adapters built on it (adapters.js):
// fragments put into every entry, so each entry is one module with one instance.
// Between them, the result builders generated from the schemas the wasm itself reports.
const built = createRequire(import.meta.url)(nodeGlue);
const schemas = JSON.parse(built.schemas());
const envelopeNames = JSON.parse(built.envelopeNames()).filter(Boolean);
const builders = buildersSource(schemas, JSON.parse(built.codecNames()), JSON.parse(built.spanProtocol()), envelopeNames);
const api =
  readFileSync(join(root, "js", "api.js"), "utf8") + builders + readFileSync(join(root, "js", "adapters.js"), "utf8");
const names = [
  ...["sign", "signingString", "verifySignature", "parse", "receive", "schemas", "envelopeNames", "defaults", "live", "LiveList", "ZegoCallbackError"],
  ...["ZegoCallbacks", "MemoryNonceStore", "createHandler", "createNodeMiddleware", "signCallback", "signedRequest"],
];
const fnNames = names.filter((n) => n !== "ZegoCallbackError").join(", ");
const build = `const core = makeApi(raw);\nconst api = { ...core, ...makeAdapters(core, makeRules(raw)) };\n`;
// The ES entries (browsers, workerd) share one copy of it, web/api.mjs; the class is
// declared by api.js itself, the rest comes from makeApi and makeAdapters.
writeFileSync(
  join(pkg, "web", "api.mjs"),
  `${api}\nexport function makeAll(raw) {\n${build}return api;\n}\nexport { ZegoCallbackError };\n`,
);
const esmEntry = (setup) =>
  `import * as raw from "./web/${name}.mjs";\nimport { makeAll, ZegoCallbackError } from "./web/api.mjs";\n${setup}` +
  `const api = makeAll(raw);\nexport const { ${fnNames} } = api;\nexport { ZegoCallbackError };\nexport default api;\n`;

writeFileSync(
  join(pkg, "index.cjs"),
  `"use strict";\nconst raw = require("./node/${name}.js");\n${api}\n${build}module.exports = api;\n`,
);
writeFileSync(
  join(pkg, "index.mjs"),
  `// Node's import: the same instance as require, so there is one ZegoCallbackError class.\n` +
    `import api from "./index.cjs";\nexport const { ${names.join(", ")} } = api;\nexport default api;\n`,
);
// Browsers and bundlers: the .wasm beside the module, by the URL bundlers recognise as an
// asset, compiled while it streams in; the module is ready once its import resolves (an
// ES module may await at its top level; the CommonJS and workerd entries do not).
writeFileSync(
  join(pkg, "index.browser.mjs"),
  esmEntry(`await raw.default({ module_or_path: new URL("./web/${name}_bg.wasm", import.meta.url) });\n`),
);
// workerd forbids compiling wasm from bytes at run time; wrangler bundles the .wasm import
// as a compiled WebAssembly.Module instead.
writeFileSync(
  join(pkg, "index.workerd.mjs"),
  esmEntry(`import wasmModule from "./web/${name}_bg.wasm";\nraw.initSync({ module: wasmModule });\n`),
);

// The types, their event part generated from the schemas (scripts/types.mjs).
writeFileSync(join(pkg, "index.d.ts"), withEventTypes(readFileSync(join(root, "js", "index.d.ts"), "utf8"), schemas, envelopeNames));

// The CLI, with what it shares with the inspector page (how a body's fields read and what
// to warn about) and ZEGO's documented examples, for `send --fixtures`.
mkdirSync(join(pkg, "bin"));
copyFileSync(join(root, "js", "cli.mjs"), join(pkg, "bin", "zego-callback.mjs"));
mkdirSync(join(pkg, "lib"));
for (const file of ["raw.mjs", "fields.mjs", "check.mjs", "kinds.mjs"]) copyFileSync(join(root, "www", "lib", file), join(pkg, "lib", file));
cpSync(join(root, "tests", "fixtures", "seeds"), join(pkg, "fixtures"), { recursive: true });
copyFileSync(join(root, "js", "README.md"), join(pkg, "README.md"));
writeFileSync(
  join(pkg, "package.json"),
  JSON.stringify(
    {
      name: "zego-callback",
      version,
      description: "Verified, exact, order-proof ZEGO server callbacks (Rust, WebAssembly)",
      license: "MIT OR Apache-2.0",
      keywords: ["zego", "webhook", "callback", "signature", "wasm"],
      main: "./index.cjs",
      module: "./index.browser.mjs",
      browser: "./index.browser.mjs",
      types: "./index.d.ts",
      exports: {
        ".": {
          types: "./index.d.ts",
          workerd: "./index.workerd.mjs",
          browser: "./index.browser.mjs",
          node: { import: "./index.mjs", require: "./index.cjs" },
          import: "./index.browser.mjs",
          require: "./index.cjs",
          default: "./index.browser.mjs",
        },
        "./package.json": "./package.json",
      },
      bin: { "zego-callback": "./bin/zego-callback.mjs" },
      files: ["index.*", "node/", "web/", "bin/", "lib/", "fixtures/", "README.md"],
      sideEffects: true,
      engines: { node: ">=18" },
    },
    null,
    2,
  ) + "\n",
);

// The inspector page loads the same wasm through wasm-bindgen's own web loader.
const www = join(root, "www", "pkg");
mkdirSync(www, { recursive: true });
copyFileSync(webGlue, join(www, `${name}.js`));
copyFileSync(webWasm, join(www, `${name}_bg.wasm`));
writeFileSync(join(www, "api.mjs"), `export function wrap(raw) {\n${api}\nreturn makeApi(raw);\n}\n`);

// ...and offers the shared fixtures, copied from tests/fixtures/ (the files every test uses).
const wwwFixtures = join(root, "www", "fixtures");
rmSync(wwwFixtures, { recursive: true, force: true });
for (const part of ["index.json", "seeds", "signed", "bad"]) {
  cpSync(join(root, "tests", "fixtures", part), join(wwwFixtures, part), { recursive: true });
}

// The package's JS without comments and layout (names kept, so stack traces still read):
// it is a third of the download otherwise. The sources stay readable in js/.
for (const file of ["index.cjs", "index.browser.mjs", "index.workerd.mjs", "web/api.mjs", `web/${name}.mjs`, `node/${name}.js`, "bin/zego-callback.mjs", "lib/raw.mjs", "lib/fields.mjs", "lib/check.mjs", "lib/kinds.mjs"]) {
  const path = join(pkg, file);
  const { code } = transformSync(readFileSync(path, "utf8"), { minifyWhitespace: true, minifySyntax: true, legalComments: "none", target: "es2022" });
  writeFileSync(path, code);
}

// examples/ import the module by its name, as a user's code does.
const link = join(root, "node_modules", "zego-callback");
rmSync(link, { recursive: true, force: true });
symlinkSync(pkg, link, "dir");
// ...and `npx zego-callback` runs the CLI in this checkout as in a project that installed the
// package: npx looks in node_modules/.bin, where npm links a dependency's bin, and this
// package is none of the workspace's dependencies (it is built here).
const bin = join(pkg, "bin", "zego-callback.mjs");
chmodSync(bin, 0o755);
const binLink = join(root, "node_modules", ".bin", "zego-callback");
mkdirSync(dirname(binLink), { recursive: true });
rmSync(binLink, { force: true });
symlinkSync(join("..", "zego-callback", "bin", "zego-callback.mjs"), binLink);

console.log(`pkg/ built: zego-callback ${version}`);
