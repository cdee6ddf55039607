// One HTTP request from a stand-in or a probe, over TCP or a unix socket, with a timeout: its status and its whole
// body.
import * as http from "node:http";
import { text } from "node:stream/consumers";

export interface HttpAnswer {
    status: number;
    headers: http.IncomingHttpHeaders;
    body: string;
}

export interface HttpRequest extends http.RequestOptions {
    /** Refused with "no answer in <timeout> ms" when nothing comes for that long. */
    timeout: number;
    body?: string;
}

/**
 * Resolves once the whole answer has come; rejects on a connection error or the timeout. Never pooled (`agent: false`).
 */
export function httpRequest(url: string | URL | undefined, options: HttpRequest): Promise<HttpAnswer> {
    return new Promise((resolve, reject) => {
        const answered = (response: http.IncomingMessage) => {
            text(response).then(
                (body) => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }),
                reject,
            );
        };
        const { body, ...rest } = options;
        const settings = { ...rest, agent: false };
        const request = url === undefined ? http.request(settings, answered) : http.request(url, settings, answered);
        request.on("timeout", () => request.destroy(new Error(`no answer in ${options.timeout} ms`)));
        request.on("error", reject);
        request.end(body);
    });
}
