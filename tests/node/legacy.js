"use strict";
/*
 * Drives Tencent's legacy Node SDK (image-node-sdk's ImageClient), unmodified, for
 * tests/test_node_sdks.py.  The SDK calls https://recognition.image.myqcloud.com/face/...; only
 * the environment the test gives (mockface's proxy variables and CA) sends it to mockface.
 *
 * stdin: one JSON plan
 *   {"protocol": "https:" | "http:", "host": "recognition.image.myqcloud.com",
 *    "credential": {"AppId": "...", "SecretId": "...", "SecretKey": "..."},
 *    "calls": [{"method": "faceLiveGetFour", "data": {...}} |
 *              {"method": "faceIdCardLiveDetectFour", "formData": {...},
 *               "files": {"video": "/path/to/video.mp4"}}, ...]}
 *   "http:" uses the SDK's own setHost(host).setProtocol("http:"), keeping the host; a call's
 *   "rejectUnauthorized": true turns on the certificate check the SDK skips by default.
 * stdout: one JSON line
 *   {"results": [{"status": 200, "contentType": "...", "body": <parsed JSON or the text>} |
 *                {"error": {"code", "message"}}]}
 * Exit status 2 means the plan itself could not run (the message is on stderr).
 */
const fs = require("fs");
const { ImageClient } = require("image-node-sdk");

function readStdin() {
  return new Promise((resolve, reject) => {
    const chunks = [];
    process.stdin.on("data", (chunk) => chunks.push(chunk));
    process.stdin.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    process.stdin.on("error", reject);
  });
}

/** The SDK's params for one call: JSON by default, multipart when it has form fields. */
function sdkParams(call) {
  const params = { rejectUnauthorized: call.rejectUnauthorized };
  if (call.formData || call.files) {
    params.formData = { ...call.formData };
    for (const [name, path] of Object.entries(call.files || {})) {
      params.formData[name] = fs.createReadStream(path);
    }
    params.headers = { "content-type": "multipart/form-data" };
  } else {
    params.data = call.data || {};
  }
  return params;
}

function parsed(text) {
  try {
    return JSON.parse(text);
  } catch (error) {
    return text;
  }
}

async function main() {
  const plan = JSON.parse(await readStdin());
  const client = new ImageClient(plan.credential);
  if (plan.protocol === "http:") {
    client.setHost(plan.host).setProtocol("http:");
  }
  const results = [];
  for (const call of plan.calls) {
    try {
      const response = await client[call.method](sdkParams(call));
      results.push({ status: response.statusCode, contentType: response.headers["content-type"],
                     body: parsed(response.body) });
    } catch (error) {
      results.push({ error: { code: error.code || null, message: String(error.message) } });
    }
  }
  process.stdout.write(JSON.stringify({ results }) + "\n");
}

main().catch((error) => {
  process.stderr.write(`legacy.js: ${error && error.stack ? error.stack : error}\n`);
  process.exit(2);
});
