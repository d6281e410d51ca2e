// Opens a streaming node's player page in headless Chromium and reports what it played.
//
//   node watch.mjs URL [--timeout-ms N] [--screenshot FILE]
//
// Prints one JSON line: { framesDecoded, frameWidth, state, error, messages }. The player
// page exposes its state as window.sutantraPlayer. Exits non-zero only if the browser itself
// could not be driven; whether what it saw is right is the caller's judgement.
import { chromium } from "playwright-core";

const args = process.argv.slice(2);
const url = args[0];
const option = (name, fallback) => {
  const index = args.indexOf(name);
  return index >= 0 ? args[index + 1] : fallback;
};
const timeout = Number(option("--timeout-ms", "30000"));
const screenshot = option("--screenshot", null);
if (!url) {
  console.error("usage: node watch.mjs URL [--timeout-ms N] [--screenshot FILE]");
  process.exit(2);
}

const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
    // The node under test listens on loopback: let WebRTC use it, with plain addresses.
    "--allow-loopback-in-peer-connection",
    "--disable-features=WebRtcHideLocalIpsWithMdns",
  ],
});
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
  if (screenshot) await page.screenshot({ path: screenshot });
  const result = await page.evaluate(() => {
    const { framesDecoded, frameWidth, state, error, messages } = window.sutantraPlayer || {};
    return { framesDecoded, frameWidth, state, error, messages };
  });
  console.log(JSON.stringify(result));
} finally {
  await browser.close();
}
