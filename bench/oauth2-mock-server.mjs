// `make bench` helper: oauth2-mock-server (npm) on a loopback port with one RS256 key, the
// comparison for mock-aad's token issuance. Prints one JSON line with its URL, then serves until
// its standard input closes.
import { OAuth2Server } from "oauth2-mock-server";

const server = new OAuth2Server();
await server.issuer.keys.generate("RS256");
await server.start(0, "127.0.0.1");
const addr = server.address();
process.stdout.write(JSON.stringify({ url: `http://127.0.0.1:${addr.port}` }) + "\n");
process.stdin.resume();
process.stdin.on("end", async () => {
  await server.stop();
  process.exit(0);
});
