// Reads a JSON array of {payload, secret, timestamp, scheme?} on stdin and prints, as one JSON
// array, the Stripe-Signature header the official stripe package makes for each case.
// One process for all cases keeps the C# tests quick.
'use strict';

const Stripe = require('stripe');

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  const cases = JSON.parse(input);
  const headers = cases.map((c) => Stripe.webhooks.generateTestHeaderString({
    payload: c.payload,
    secret: c.secret,
    timestamp: c.timestamp,
    scheme: c.scheme || undefined,
  }));
  process.stdout.write(JSON.stringify(headers));
});
