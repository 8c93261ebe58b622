// Builds ui/phone-page/jssip.min.js: JsSIP (CommonJS on npm) bundled for the page as an IIFE that sets
// `window.JsSIP`. The bundle is committed, so the relay serves the page with no npm at run time; run
// `npm run bundle` here after changing the JsSIP version in package.json.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const version = JSON.parse(readFileSync(path.join(here, 'node_modules/jssip/package.json'), 'utf8')).version;
await build({
  entryPoints: [path.join(here, 'node_modules/jssip/lib/JsSIP.js')],
  bundle: true,
  format: 'iife',
  globalName: 'JsSIP',
  minify: true,
  platform: 'browser',
  target: ['chrome100', 'firefox100', 'safari15'],
  legalComments: 'eof',
  banner: { js: `/* JsSIP ${version} (MIT, https://jssip.net), bundled with esbuild by tests/browser/build-jssip.mjs */` },
  outfile: path.join(here, '../../ui/phone-page/jssip.min.js'),
});
console.log(`ui/phone-page/jssip.min.js: JsSIP ${version}`);
