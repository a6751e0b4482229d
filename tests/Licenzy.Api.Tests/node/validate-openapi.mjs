// Reads an OpenAPI document on standard input and prints the verdict of
// @apidevtools/swagger-parser, a validator that is not Licenzy's: {"ok":true} or {"ok":false,"error":"..."}.
import SwaggerParser from '@apidevtools/swagger-parser';

let input = '';
for await (const chunk of process.stdin) input += chunk;
try {
  const api = await SwaggerParser.validate(JSON.parse(input));
  console.log(JSON.stringify({ ok: true, openapi: api.openapi }));
} catch (error) {
  console.log(JSON.stringify({ ok: false, error: String(error.message ?? error) }));
}
