// The connection pool (ssh/pool.ts) against a host that accepts TCP connections and never speaks.
import * as assert from "assert";
import * as net from "net";
import { closeAllConnections, configureSsh, runCommand } from "../src/ssh";

describe("a host that never sends its SSH greeting", function () {
    let silent: net.Server;
    let port: number;
    const closed: Promise<void>[] = [];

    before(async function () {
        silent = net.createServer((socket) => {
            closed.push(new Promise((resolve) => socket.on("close", () => resolve())));
            // reads (and so sees the client hang up) without ever answering
            socket.resume();
        });
        await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
        port = (silent.address() as net.AddressInfo).port;
    });

    after(async function () {
        await closeAllConnections();
        silent.close();
    });

    it("fails the command, naming the host, and the client's later error is no uncaught exception", async function () {
        configureSsh({
            hostKeys: {},
            hostKeyFingerprints: {},
            insecureSkipHostKeyVerification: true,
            connectTimeoutMs: 300,
            commandTimeoutMs: 5000,
            connectAttempts: 1,
        });
        await assert.rejects(
            runCommand({ address: "127.0.0.1", port, user: "root", sudo: false }, ["true"]),
            /cannot connect to root@127\.0\.0\.1:\d+: Timed out while waiting for handshake/,
        );
        // ssh2 reports "Connection lost before handshake" once the socket closes: mocha fails this test if no one
        // listens
        await Promise.all(closed);
        await new Promise((resolve) => setImmediate(resolve));
    });
});
