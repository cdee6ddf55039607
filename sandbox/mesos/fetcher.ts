// Mesos 0.28's fetcher (src/launcher/fetcher.cpp, fetchBypassingCache): each URI lands in the task's sandbox
// directory under its basename. A `file://` URI, or one without a scheme, is a path on the agent and is copied
// (copyFile, `cp`); so the agent's own view of its filesystem counts, its private /tmp and /var/tmp included.
// http(s), ftp and hdfs would be downloaded: nothing outside the sandbox cluster is reachable, so those fail here.
// An archive is not extracted (the stars demo fetches only a JSON file).
import * as fs from "fs";
import * as path from "path";

export interface Uri {
    value: string;
    extract: boolean;
    executable: boolean;
}

/** Fetcher::uriToLocalPath. */
function localPath(uri: string): string | undefined {
    const trimmed = uri.trimStart();
    if (trimmed.startsWith("file://")) return trimmed.slice("file://".length);
    return /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? undefined : trimmed;
}

/** Fetches every URI into `sandboxDirectory`; throws, naming the URI, at the first that fails. */
export function fetchUris(uris: Uri[], sandboxDirectory: string) {
    for (const uri of uris) {
        const source = localPath(uri.value);
        if (source === undefined) {
            throw new Error(`Failed to fetch '${uri.value}': the sandbox cluster reaches nothing outside it`);
        }
        if (!path.isAbsolute(source)) {
            throw new Error(
                `Failed to fetch '${uri.value}': a relative path needs --frameworks_home, which the agent does not set`,
            );
        }
        const destination = path.join(sandboxDirectory, path.basename(source));
        try {
            fs.copyFileSync(source, destination);
        } catch (error) {
            throw new Error(
                `Failed to copy with command 'cp '${source}' '${destination}'': ${error instanceof Error ? error.message : error}`,
                { cause: error },
            );
        }
        if (uri.executable) fs.chmodSync(destination, 0o755);
    }
}
