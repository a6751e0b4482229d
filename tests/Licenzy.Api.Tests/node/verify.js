// Verifies webhooks with the standardwebhooks package. Reads a JSON array of
// {secret, headers, body} on stdin and prints an array of "ok" or the verifier's error message.
// The verifier's clock is set to each message's own timestamp: the tests run on a fake clock,
// and what is checked here is the signature, not how late the test reads it.
const { Webhook } = require("standardwebhooks");

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => {
  const results = JSON.parse(input).map(({ secret, headers, body }) => {
    const realNow = Date.now;
    Date.now = () => Number(headers["webhook-timestamp"]) * 1000;
    try {
      new Webhook(secret).verify(body, headers);
      return "ok";
    } catch (error) {
      return String(error.message || error);
    } finally {
      Date.now = realNow;
    }
  });
  process.stdout.write(JSON.stringify(results));
});
