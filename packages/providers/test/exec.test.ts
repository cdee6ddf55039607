// One remote command on an open connection (@calico-stars/providers, ssh/exec.ts), against a stand-in for ssh2's Client
// whose channel opens when the test says: what happens when the timeout fires first.
import * as assert from "assert";
import { EventEmitter } from "events";
import type { Client } from "ssh2";
import { ExecSpec, execOnce } from "../src/ssh/exec";

class FakeChannel extends EventEmitter {
    readonly stderr = new EventEmitter();
    closed = false;
    ended = false;
    written: unknown[] = [];

    close(): void {
        this.closed = true;
    }

    end(data?: unknown): void {
        this.ended = true;
        this.written.push(data);
    }
}

/** A client whose exec opens its channel after `openAfterMs`, recording each command it was asked to start. */
function slowClient(openAfterMs: number) {
    const started: string[] = [];
    const channel = new FakeChannel();
    const client = {
        exec(command: string, callback: (err: Error | undefined, channel: FakeChannel) => void) {
            started.push(command);
            setTimeout(() => callback(undefined, channel), openAfterMs);
        },
    };
    return { client: client as unknown as Pick<Client, "exec">, started, channel };
}

const spec = (overrides: Partial<ExecSpec>): ExecSpec => ({
    label: "root@10.0.0.1:22",
    command: "touch /tmp/x",
    stdin: "{}",
    deadline: Date.now() + 1000,
    timedOut: (phase) => new Error(`timed out${phase ? ` (${phase})` : ""}`),
    maxOutputBytes: 64,
    ...overrides,
});

describe("a remote command on an open connection", function () {
    it("fails at its deadline when the channel has not opened, and closes the channel without input when it opens later", async function () {
        const { client, channel } = slowClient(150);
        await assert.rejects(
            execOnce(client, spec({ deadline: Date.now() + 30 })),
            /timed out \(before its channel opened\)/,
        );
        await new Promise((resolve) => setTimeout(resolve, 200));
        assert.deepStrictEqual([channel.closed, channel.ended, channel.written], [true, false, []]);
    });

    it("never asks for a channel once the deadline has passed", async function () {
        const { client, started } = slowClient(0);
        await assert.rejects(
            execOnce(client, spec({ deadline: Date.now() - 1 })),
            /timed out \(before its channel opened\)/,
        );
        assert.deepStrictEqual(started, []);
    });

    it("stops a command that prints more than the cap, saying which stream", async function () {
        const { client, channel } = slowClient(0);
        const running = execOnce(client, spec({}));
        await new Promise((resolve) => setTimeout(resolve, 10));
        channel.emit("data", Buffer.alloc(40));
        channel.stderr.emit("data", Buffer.alloc(10));
        channel.emit("data", Buffer.alloc(40));
        await assert.rejects(running, /`touch \/tmp\/x` printed more than 64 bytes on stdout; stopped it/);
        assert.strictEqual(channel.closed, true);
    });

    it("returns what the command printed and its exit code", async function () {
        const { client, channel } = slowClient(0);
        const running = execOnce(client, spec({}));
        await new Promise((resolve) => setTimeout(resolve, 10));
        channel.emit("data", Buffer.from("out"));
        channel.stderr.emit("data", Buffer.from("err"));
        channel.emit("exit", 2);
        channel.emit("close");
        assert.deepStrictEqual(await running, { stdout: "out", stderr: "err", code: 2 });
        assert.deepStrictEqual(channel.written, ["{}"]);
    });
});
