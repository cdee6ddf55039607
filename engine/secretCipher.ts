// Secrets are encrypted in the exported checkpoint, as a Pulumi secrets manager would store them, so a plain-text
// search of the export can only find a value that leaked outside a secret. The engine's own cipher (AES-256-GCM).
import * as crypto from "crypto";

export class SecretCipher {
    private readonly key = crypto.randomBytes(32);

    /** The IV is derived from the value, so that exporting an unchanged state twice gives the same text. */
    encrypt(plain: unknown): string {
        const text = JSON.stringify(plain);
        const iv = crypto.createHmac("sha256", this.key).update(text).digest().subarray(0, 12);
        const cipher = crypto.createCipheriv("aes-256-gcm", this.key, iv);
        const body = Buffer.concat([cipher.update(text, "utf8"), cipher.final(), cipher.getAuthTag()]);
        return `v1:${iv.toString("base64")}:${body.toString("base64")}`;
    }
}
