// Opens a streaming node's player page in headless Chromium and reports what it played.
//
//   node watch.mjs URL [--timeout-ms N] [--watch-ms N] [--screenshot FILE]
//
// Prints one JSON line: { framesDecoded, frameWidth, state, error, messages }. With
// --watch-ms, it keeps watching that long after the first frame and adds `samples`: what the
// connection's statistics said every 100 ms ({ ms, framesDecoded, frameWidth }, ms since the
// first frame). The player page exposes its state as window.sutantraPlayer. Exits non-zero
// only if the browser itself could not be driven; whether what it saw is right is the
// caller's judgement.
import { launchChromium } from "./chromium.mjs";

const args = process.argv.slice(2);
const url = args[0];
const option = (name, fallback) => {
  const index = args.indexOf(name);
  return index >= 0 ? args[index + 1] : fallback;
};
const timeout = Number(option("--timeout-ms", "30000"));
const watchFor = Number(option("--watch-ms", "0"));
const screenshot = option("--screenshot", null);
if (!url) {
  console.error("usage: node watch.mjs URL [--timeout-ms N] [--watch-ms N] [--screenshot FILE]");
  process.exit(2);
}

const browser = await launchChromium(["--autoplay-policy=no-user-gesture-required"]);
try {
  const page = await browser.newPage();
  page.on("console", (message) => console.error("page:", message.text()));
  await page.goto(url);
  try {
    await page.waitForFunction(
      () => {
        const player = window.sutantraPlayer;
        return player && (player.framesDecoded > 0 || player.error);
      },
      null,
      { timeout, polling: 200 },
    );
  } catch (_) {
    // Timed out: report whatever state the player reached.
  }
  const samples = [];
  const started = Date.now();
  while (watchFor > 0 && Date.now() - started < watchFor) {
    // Straight from the connection's statistics (the player reads them every 500 ms only).
    const sample = await page.evaluate(async () => {
      const sample = { framesDecoded: 0, frameWidth: 0 };
      const { pc } = window.sutantraPlayer || {};
      if (!pc) return sample;
      (await pc.getStats()).forEach((entry) => {
        if (entry.type === "inbound-rtp" && entry.kind === "video") {
          sample.framesDecoded = entry.framesDecoded || 0;
          sample.frameWidth = entry.frameWidth || 0;
        }
      });
      return sample;
    });
    if (!(sample.framesDecoded > 0)) break;
    samples.push({ ms: Date.now() - started, ...sample });
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (screenshot) await page.screenshot({ path: screenshot });
  const result = await page.evaluate(() => {
    const { framesDecoded, frameWidth, state, error, messages } = window.sutantraPlayer || {};
    return { framesDecoded, frameWidth, state, error, messages };
  });
  if (watchFor > 0) result.samples = samples;
  console.log(JSON.stringify(result));
} finally {
  await browser.close();
}
