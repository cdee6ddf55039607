// Stand-ins for the provider plugins the test engine cannot run: @pulumi/random's
// RandomId and @pulumi/command's remote.Command. The command emulator, like the
// plugin, opens one SSH connection per operation with the resource's own
// connection (user, private key, host key); it does not model the plugin's
// environment variables, `update` command, logging, agent or dial retries.
import * as crypto from "crypto";
import { Client } from "ssh2";
import type { ResourceEmulator } from "./engine";

interface Connection {
    host: string;
    port?: number;
    user?: string;
    privateKey?: string;
    hostKey?: string;
    perDialTimeout?: number;
}

function runOrFail(connection: Connection, script: string, stdin?: string): Promise<{ stdout: string; stderr: string }> {
    const where = `${connection.user ?? "root"}@${connection.host}:${connection.port ?? 22}`;
    return new Promise((resolve, reject) => {
        const client = new Client();
        const fail = (message: string) => {
            client.end();
            reject(new Error(`${where}: ${message}`));
        };
        client.on("error", (error) => fail(error.message));
        client.on("ready", () => client.exec(script, (error, channel) => {
            if (error) {
                return fail(error.message);
            }
            const stdout: Buffer[] = [];
            const stderr: Buffer[] = [];
            channel.on("data", (chunk: Buffer) => stdout.push(chunk));
            channel.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
            channel.on("close", (code: number) => {
                client.end();
                const output = { stdout: Buffer.concat(stdout).toString(), stderr: Buffer.concat(stderr).toString() };
                return code === 0 ? resolve(output) : reject(new Error(`${where}: command exited ${code}: ${output.stderr}`));
            });
            channel.end(stdin);
        }));
        client.connect({
            host: connection.host,
            port: connection.port ?? 22,
            username: connection.user ?? "root",
            privateKey: connection.privateKey,
            readyTimeout: (connection.perDialTimeout ?? 15) * 1000,
            // the plugin compares the offered key with `hostKey` and refuses any other
            hostVerifier: (key: Buffer) => connection.hostKey?.split(" ")[1] === key.toString("base64"),
        });
    });
}

export const randomIdEmulator: ResourceEmulator = {
    async create(inputs) {
        const bytes = crypto.randomBytes(inputs.byteLength);
        return { id: bytes.toString("base64url"), outputs: { ...inputs, hex: bytes.toString("hex"), b64Url: bytes.toString("base64url"), b64Std: bytes.toString("base64"), dec: BigInt(`0x${bytes.toString("hex")}`).toString() } };
    },
    diff(olds, news) {
        const changed = olds.byteLength !== news.byteLength || olds.prefix !== news.prefix;
        return { changes: changed, replaces: changed ? ["byteLength"] : [] };
    },
};

export const remoteCommandEmulator: ResourceEmulator = {
    async create(inputs) {
        const output = await runOrFail(inputs.connection, inputs.create, inputs.stdin);
        return { id: `${inputs.connection.host}-${crypto.randomBytes(4).toString("hex")}`, outputs: { ...inputs, ...output } };
    },
    async update(_id, _olds, news) {
        return { ...news, ...(await runOrFail(news.connection, news.create, news.stdin)) };
    },
    async delete(_id, outputs) {
        if (outputs.delete) {
            await runOrFail(outputs.connection, outputs.delete);
        }
    },
    diff(olds, news) {
        const triggersChanged = JSON.stringify(olds.triggers) !== JSON.stringify(news.triggers);
        const changed = triggersChanged || ["create", "delete", "stdin", "connection"].some((k) => JSON.stringify(olds[k]) !== JSON.stringify(news[k]));
        return { changes: changed, replaces: triggersChanged ? ["triggers"] : [] };
    },
};

export const emulators = {
    "random:index/randomId:RandomId": randomIdEmulator,
    "command:remote:Command": remoteCommandEmulator,
};
