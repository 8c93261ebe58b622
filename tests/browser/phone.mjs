// One browser phone in headless Chromium, driven for a test: loads the relay's page, registers over
// ws://, then places or answers one call and reports what it heard. Prints one JSON object per line
// on stdout (`registered`, `established`, `sample`, `result`, or `error`) so the Rust test can follow.
//
//   node phone.mjs '{"page":"http://127.0.0.1:8088/","user":"web","password":"webpw",
//                    "action":"call","target":"bob","holdMs":6000,"hangup":true,
//                    "toneWav":"/tmp/tone.wav"}'
//
// action "call": dial `target`; "answer": answer the next incoming call automatically.
// `hangup`: hang up after holdMs (otherwise wait for the other side to end the call).
// `dtmf` (e.g. "15#"): send these digits as RFC 4733 telephone-events `dtmfAtMs` (default 1000) into the call.
// Chromium: /usr/bin/chromium (or $CHROMIUM), launched with the fake-media flags of TESTING.md; the
// caller is expected to run this inside a network namespace or with everything on 127.0.0.1.
import { chromium } from 'playwright-core';
import { existsSync } from 'node:fs';

const opts = JSON.parse(process.argv[2] || '{}');
const emit = (event, data = {}) => process.stdout.write(JSON.stringify({ event, ...data }) + '\n');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';

if (!existsSync(executablePath)) {
  emit('error', { message: `no Chromium at ${executablePath}: apt-get install chromium (or set CHROMIUM)` });
  process.exit(2);
}

const args = [
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  `--use-file-for-fake-audio-capture=${opts.toneWav}`,
  '--allow-loopback-in-peer-connection',
  '--autoplay-policy=no-user-gesture-required',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
];

let browser;
const deadline = (ms, what) => sleep(ms).then(() => { throw new Error(`timed out: ${what}`); });

async function waitFor(page, predicate, arg, ms, what) {
  return Promise.race([
    page.waitForFunction(predicate, arg, { polling: 50, timeout: ms }),
    deadline(ms + 100, what),
  ]);
}

try {
  browser = await chromium.launch({ executablePath, args, headless: true });
  const page = await browser.newPage();
  page.on('console', (m) => process.stderr.write(`page> ${m.text()}\n`));
  page.on('pageerror', (e) => process.stderr.write(`page error> ${e.message}\n`));
  await page.goto(opts.page, { waitUntil: 'load' });
  await page.waitForFunction(() => window.dialtone && window.JsSIP);
  if (opts.debug) await page.evaluate(() => window.JsSIP.debug.enable('JsSIP:*'));
  await page.evaluate(({ source, hz }) => window.dialtone.setSource(source, hz), {
    source: opts.source || 'mic',
    hz: opts.toneHz || 0,
  });
  await page.evaluate(({ user, password }) => window.dialtone.register({ user, password }), opts);
  emit('registered', { user: opts.user });

  let started;
  if (opts.action === 'call') {
    started = Date.now();
    await page.evaluate((target) => window.dialtone.call(target), opts.target);
  } else {
    await page.evaluate(() => window.dialtone.setAutoAnswer(true));
    await waitFor(page, () => window.dialtone.state().call !== 'idle', null, opts.ringMs || 30000, 'an incoming call');
    started = Date.now();
  }
  await waitFor(
    page,
    () => ['established', 'failed', 'ended'].includes(window.dialtone.state().call),
    null,
    opts.setupMs || 20000,
    'the call to be established',
  );
  const afterSetup = await page.evaluate(() => window.dialtone.state());
  if (afterSetup.call !== 'established') {
    emit('result', { ok: false, state: afterSetup });
    process.exit(1);
  }
  emit('established', { ms: Date.now() - started });

  // Hold the call, sampling what the page hears and receives.
  const samples = [];
  const holdUntil = Date.now() + (opts.holdMs || 6000);
  const dtmfAt = opts.dtmf ? Date.now() + (opts.dtmfAtMs || 1000) : Infinity;
  while (Date.now() < holdUntil) {
    await sleep(500);
    if (Date.now() >= dtmfAt && opts.dtmf) {
      await page.evaluate((tones) => window.dialtone.sendDtmf(tones), opts.dtmf);
      emit('dtmf_sent', { tones: opts.dtmf });
      opts.dtmf = '';
    }
    const s = await page.evaluate(async () => ({
      stats: await window.dialtone.stats(),
      heard: window.dialtone.heard(),
      call: window.dialtone.state().call,
    }));
    samples.push(s);
    emit('sample', s);
    if (s.call !== 'established') break;
  }
  if (opts.hangup) {
    await page.evaluate(() => window.dialtone.hangup());
  }
  await waitFor(
    page,
    () => ['ended', 'failed'].includes(window.dialtone.state().call),
    null,
    opts.endMs || 15000,
    'the call to end',
  );
  const last = samples[samples.length - 1] || { stats: {} };
  emit('result', {
    ok: true,
    state: await page.evaluate(() => window.dialtone.state()),
    stats: last.stats,
    heard: samples.map((s) => s.heard),
  });
} catch (e) {
  emit('error', { message: String(e && e.message ? e.message : e) });
  process.exitCode = 1;
} finally {
  if (browser) await browser.close();
}
