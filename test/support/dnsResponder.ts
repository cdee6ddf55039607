// A DNS responder for tests: answers every A query with the address given, over UDP, on ADDRESS:53.
//   node -r ts-node/register/transpile-only test/support/dnsResponder.ts LISTEN_ADDRESS ANSWER_ADDRESS
// Prints "ready" once bound, "in use" (and exits 3) when port 53 is taken already.
import * as dgram from "node:dgram";

const [listen, answer] = process.argv.slice(2);
const socket = dgram.createSocket("udp4");

/** The question section's end: labels up to the zero byte, then type and class. */
function questionEnd(query: Buffer) {
    let offset = 12;
    while (offset < query.length && query[offset] !== 0) {
        offset += query[offset] + 1;
    }
    return offset + 5;
}

socket.on("message", (query, peer) => {
    if (query.length < 17) {
        return;
    }
    const end = questionEnd(query);
    const type = query.readUInt16BE(end - 4);
    const header = Buffer.from(query.subarray(0, 12));
    header.writeUInt16BE(0x8180, 2);
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(type === 1 ? 1 : 0, 6);
    header.writeUInt16BE(0, 8);
    header.writeUInt16BE(0, 10);
    const record = Buffer.alloc(16);
    record.writeUInt16BE(0xc00c, 0);
    record.writeUInt16BE(1, 2);
    record.writeUInt16BE(1, 4);
    record.writeUInt32BE(5, 6);
    record.writeUInt16BE(4, 10);
    answer.split(".").forEach((octet, index) => record.writeUInt8(Number(octet), 12 + index));
    const reply = Buffer.concat([header, query.subarray(12, end), type === 1 ? record : Buffer.alloc(0)]);
    socket.send(reply, peer.port, peer.address);
});
socket.on("error", (error) => {
    console.log((error as NodeJS.ErrnoException).code === "EADDRINUSE" ? "in use" : `error ${error.message}`);
    process.exit(3);
});
socket.bind(53, listen, () => console.log("ready"));
process.on("SIGTERM", () => process.exit(0));
