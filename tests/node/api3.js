"use strict";
/*
 * Drives Tencent's API 3.0 Node SDK (tencentcloud-sdk-nodejs), unmodified, for
 * tests/test_node_sdks.py.  The SDK keeps its default endpoint (<product>.tencentcloudapi.com);
 * only the environment the test gives (mockface's proxy variables and CA) sends it to mockface.
 *
 * stdin: one JSON plan
 *   {"product": "faceid", "version": "v20180301", "protocol": "https://" | "http://",
 *    "signMethod": "TC3-HMAC-SHA256" | "HmacSHA256" | "HmacSHA1",
 *    "credential": {"secretId": "...", "secretKey": "..."}, "region": "ap-guangzhou",
 *    "calls": [{"action": "GetLiveCode", "params": {}}, ...]}
 * stdout: one JSON line
 *   {"endpoint": "<the host the client used>",
 *    "results": [{"response": {...}} | {"error": {"code", "message", "requestId", "httpCode"}}]}
 * The calls run one after the other; an SDK exception is a result, not a crash.  Exit status 2
 * means the plan itself could not run (the message is on stderr).
 */
const tencentcloud = require("tencentcloud-sdk-nodejs");

function readStdin() {
  return new Promise((resolve, reject) => {
    const chunks = [];
    process.stdin.on("data", (chunk) => chunks.push(chunk));
    process.stdin.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    process.stdin.on("error", reject);
  });
}

/** What the test needs of a TencentCloudSDKHttpException (or any other error). */
function describeError(error) {
  return {
    code: error.code === undefined ? null : error.code,
    message: String(error.message),
    requestId: error.requestId || "",
    httpCode: error.httpCode === undefined ? null : error.httpCode,
  };
}

async function main() {
  const plan = JSON.parse(await readStdin());
  const Client = tencentcloud[plan.product][plan.version].Client;
  const client = new Client({
    credential: plan.credential,
    region: plan.region,
    profile: { signMethod: plan.signMethod, httpProfile: { protocol: plan.protocol } },
  });
  const results = [];
  for (const call of plan.calls) {
    if (typeof client[call.action] !== "function") {
      throw new Error(`${plan.product} ${plan.version}'s Client has no ${call.action}`);
    }
    try {
      results.push({ response: await client[call.action](call.params) });
    } catch (error) {
      results.push({ error: describeError(error) });
    }
  }
  process.stdout.write(JSON.stringify({ endpoint: client.endpoint, results }) + "\n");
}

main().catch((error) => {
  process.stderr.write(`api3.js: ${error && error.stack ? error.stack : error}\n`);
  process.exit(2);
});
