// Publishes a simulcast camera from headless Chromium to a streaming node over WHIP.
//
//   node publish.mjs BASE STREAM [--token T] [--width W --height H] [--rids q,h,f]
//
// Chromium's fake camera (a moving test pattern) is sent as up to three simulcast layers, the
// last rid at full size and each earlier one at half the size of the next, as a browser-based
// studio would send it. The script prints one JSON line when the node has answered
// ({ state: "publishing" } or { state: "refused", status, reason }), then one line a second
// with what each layer sends ({ layers: [{ rid, active, frameWidth, bytesSent, limitation }] }).
// Commands on stdin, one per line: "stop RID" turns a layer off (as Chromium does on its own
// under CPU or bandwidth limits), "start RID" turns it on again, "quit" (or the end of stdin)
// ends the session with a WHIP DELETE.
import { launchChromium } from "./chromium.mjs";
import { createInterface } from "node:readline";

const args = process.argv.slice(2);
const [base, stream] = args;
const option = (name, fallback) => {
  const index = args.indexOf(name);
  return index >= 0 ? args[index + 1] : fallback;
};
if (!base || !stream) {
  console.error("usage: node publish.mjs BASE STREAM [--token T] [--width W --height H] [--rids q,h,f]");
  process.exit(2);
}
const settings = {
  stream,
  token: option("--token", null),
  width: Number(option("--width", "640")),
  height: Number(option("--height", "360")),
  rids: option("--rids", "q,h,f").split(","),
};

const browser = await launchChromium([
  "--use-fake-device-for-media-stream",
  "--use-fake-ui-for-media-stream",
  // Chromium sends fewer layers than asked for below 960x540 unless told otherwise; the test
  // keeps the picture small so that encoding three layers stays cheap.
  "--force-fieldtrials=WebRTC-LegacySimulcastLayerLimit/Disabled/",
]);
const page = await browser.newPage();
page.on("console", (message) => console.error("page:", message.text()));
// Same origin as the node (and a secure context, for the camera).
await page.goto(new URL("/health", base).href);

const answered = await page.evaluate(async (settings) => {
  const media = await navigator.mediaDevices.getUserMedia({
    video: { width: settings.width, height: settings.height, frameRate: 30 },
  });
  const pc = new RTCPeerConnection();
  const count = settings.rids.length;
  const transceiver = pc.addTransceiver(media.getVideoTracks()[0], {
    direction: "sendonly",
    sendEncodings: settings.rids.map((rid, index) => ({
      rid,
      scaleResolutionDownBy: 2 ** (count - 1 - index),
    })),
  });
  // Under CPU pressure keep each layer's size and lower its frame rate instead: the tests
  // check the sizes.
  const parameters = transceiver.sender.getParameters();
  parameters.degradationPreference = "maintain-resolution";
  await transceiver.sender.setParameters(parameters).catch(() => {});
  await pc.setLocalDescription(await pc.createOffer());
  // Non-trickle WHIP: wait for the candidates, then send one complete offer.
  await new Promise((resolve) => {
    if (pc.iceGatheringState === "complete") return resolve();
    pc.onicegatheringstatechange = () => pc.iceGatheringState === "complete" && resolve();
    setTimeout(resolve, 3000);
  });
  const headers = { "Content-Type": "application/sdp" };
  if (settings.token) headers["Authorization"] = "Bearer " + settings.token;
  const response = await fetch("/whip/" + encodeURIComponent(settings.stream), {
    method: "POST", headers, body: pc.localDescription.sdp,
  });
  const body = await response.text();
  if (response.status !== 201) {
    pc.close();
    return { state: "refused", status: response.status, reason: body.trim() };
  }
  await pc.setRemoteDescription({ type: "answer", sdp: body });
  window.publisher = { pc, transceiver, resource: response.headers.get("Location") };
  return { state: "publishing" };
}, settings);
console.log(JSON.stringify(answered));
if (answered.state !== "publishing") {
  await browser.close();
  process.exit(0);
}

const report = setInterval(async () => {
  const layers = await page.evaluate(async () => {
    const { pc, transceiver } = window.publisher;
    const active = Object.fromEntries(
      transceiver.sender.getParameters().encodings.map((encoding) => [encoding.rid, encoding.active]),
    );
    const layers = [];
    (await pc.getStats()).forEach((entry) => {
      if (entry.type === "outbound-rtp" && entry.kind === "video") {
        layers.push({
          rid: entry.rid,
          active: active[entry.rid],
          frameWidth: entry.frameWidth || 0,
          bytesSent: entry.bytesSent || 0,
          limitation: entry.qualityLimitationReason,
        });
      }
    });
    layers.sort((a, b) => a.frameWidth - b.frameWidth);
    return { layers, connection: pc.connectionState };
  }).catch(() => null);
  if (layers) console.log(JSON.stringify(layers));
}, 1000);

const setActive = (rid, active) =>
  page.evaluate(async ({ rid, active }) => {
    const { sender } = window.publisher.transceiver;
    const parameters = sender.getParameters();
    const encoding = parameters.encodings.find((encoding) => encoding.rid === rid);
    if (!encoding) return `no layer ${rid}`;
    encoding.active = active;
    await sender.setParameters(parameters);
    return null;
  }, { rid, active });

const finish = async () => {
  clearInterval(report);
  await page.evaluate(async () => {
    const { pc, resource } = window.publisher;
    if (resource) await fetch(resource, { method: "DELETE" }).catch(() => {});
    pc.close();
  }).catch(() => {});
  await browser.close();
  process.exit(0);
};

for await (const line of createInterface({ input: process.stdin })) {
  const [command, rid] = line.trim().split(/\s+/);
  if (command === "quit") break;
  if (command === "stop" || command === "start") {
    const error = await setActive(rid, command === "start");
    console.log(JSON.stringify(error ? { error } : { [command === "stop" ? "stopped" : "started"]: rid }));
  } else if (command) {
    console.log(JSON.stringify({ error: `unknown command ${command}: stop RID, start RID or quit` }));
  }
}
await finish();
