// Bundles every compat/apps/<name>/src/index.js into compat/bundles/<name>.js the way wrangler does
// (esm, browser platform, the workerd/worker/browser conditions, es2022, not minified).
import { build } from "esbuild";
import { readdirSync, mkdirSync, statSync } from "node:fs";

const here = (p) => new URL(p, import.meta.url).pathname;
const only = process.argv.slice(2);
const apps = readdirSync(here("apps")).filter((n) => statSync(here(`apps/${n}`)).isDirectory()).filter((n) => !only.length || only.includes(n)).sort();
mkdirSync(here("bundles"), { recursive: true });

for (const name of apps) {
  await build({
    entryPoints: [here(`apps/${name}/src/index.js`)],
    outfile: here(`bundles/${name}.js`),
    bundle: true, format: "esm", platform: "browser", target: "es2022", minify: false,
    conditions: ["workerd", "worker", "browser"], mainFields: ["browser", "module", "main"],
    legalComments: "none", charset: "utf8", logLevel: "warning",
    define: { "process.env.NODE_ENV": '"production"' },
  });
  const kb = statSync(here(`bundles/${name}.js`)).size / 1024;
  console.log(`${name.padEnd(16)} ${kb.toFixed(1).padStart(7)} KB${kb > 300 ? "  (over 300 KB)" : ""}`);
}
