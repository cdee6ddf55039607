// Faults a test switches on through /_sandbox/faults (GET shows them, POST changes some, DELETE resets all):
//   deployDelayMs     a deployment finishes no sooner than this after it started (Marathon's own latency);
//   hangDeployments   deployments stop at their first step, with nothing launched or killed, until switched off;
//   failNext          {status, count, method?, pathPrefix?}: the next matching requests fail with that status;
//   lockAppsForMs     for this long, a change to any app answers 409 with an empty `deployments` list, as when a
//                     scale or a task kill rather than a deployment holds the apps' lock;
//   noLeaderForMs     for this long, every /v2 request answers 503 as Marathon does without an elected leader;
//   deploymentStartDelayMs  a new deployment begins its first step, and so is listed (in /v2/deployments and in its
//                     apps' `deployments`), only this long after its write was answered (deployments.ts says why).
import { report } from "./groupUpdate";
import { isObject } from "./json";
import { failure, locked, noLeader, Reply, Violation } from "./replies";

export interface FailNext {
    status: number;
    count: number;
    method?: string;
    pathPrefix?: string;
}

/** The switches as GET shows them; POST takes any of them. */
export interface FaultSwitches {
    deployDelayMs: number;
    hangDeployments: boolean;
    failNext: FailNext | null;
    lockAppsForMs: number;
    noLeaderForMs: number;
    deploymentStartDelayMs: number;
}

interface RequestLine {
    method: string;
    pathname: string;
}

const injectedFailureMessage = "Internal server error (injected)";

export class Faults {
    deployDelayMs: number;
    hangDeployments = false;
    deploymentStartDelayMs = 0;
    private failNext: FailNext | null = null;
    private lockAppsUntil = 0;
    private noLeaderUntil = 0;

    constructor(private readonly initialDeployDelayMs: number) {
        this.deployDelayMs = initialDeployDelayMs;
    }

    reset(): void {
        this.deployDelayMs = this.initialDeployDelayMs;
        this.hangDeployments = false;
        this.deploymentStartDelayMs = 0;
        this.failNext = null;
        this.lockAppsUntil = 0;
        this.noLeaderUntil = 0;
    }

    show(): FaultSwitches {
        const remaining = (until: number) => Math.max(0, until - Date.now());
        return {
            deployDelayMs: this.deployDelayMs,
            hangDeployments: this.hangDeployments,
            failNext: this.failNext,
            lockAppsForMs: remaining(this.lockAppsUntil),
            noLeaderForMs: remaining(this.noLeaderUntil),
            deploymentStartDelayMs: this.deploymentStartDelayMs,
        };
    }

    /** @returns what could not be read; nothing changes then */
    change(body: unknown): Violation[] {
        const errors: Violation[] = [];
        if (!isObject(body)) return [{ path: "/", errors: ["error.expected.jsobject"] }];
        const number = (field: string) => {
            const value = body[field];
            if (value === undefined) return undefined;
            if (typeof value === "number" && value >= 0) return value;
            report(errors, `/${field}`, "expected a number >= 0");
            return undefined;
        };
        const deployDelayMs = number("deployDelayMs");
        const lockAppsForMs = number("lockAppsForMs");
        const noLeaderForMs = number("noLeaderForMs");
        const deploymentStartDelayMs = number("deploymentStartDelayMs");
        if (body.hangDeployments !== undefined && typeof body.hangDeployments !== "boolean") {
            report(errors, "/hangDeployments", "expected a boolean");
        }
        const failNext = body.failNext === undefined ? undefined : readFailNext(body.failNext, errors);
        if (errors.length > 0) return errors;
        if (deployDelayMs !== undefined) this.deployDelayMs = deployDelayMs;
        if (typeof body.hangDeployments === "boolean") this.hangDeployments = body.hangDeployments;
        if (failNext !== undefined) this.failNext = failNext;
        if (lockAppsForMs !== undefined) this.lockAppsUntil = Date.now() + lockAppsForMs;
        if (noLeaderForMs !== undefined) this.noLeaderUntil = Date.now() + noLeaderForMs;
        if (deploymentStartDelayMs !== undefined) this.deploymentStartDelayMs = deploymentStartDelayMs;
        return [];
    }

    appsLocked(): boolean {
        return Date.now() < this.lockAppsUntil;
    }

    /** The failure a request meets before Marathon handles it, if any: no leader, then failNext. */
    take(request: RequestLine): Reply | undefined {
        if (request.pathname.startsWith("/_sandbox/")) return undefined;
        if (Date.now() < this.noLeaderUntil && request.pathname.startsWith("/v2/")) return noLeader(request.pathname);
        const failNext = this.failNext;
        if (!failNext || !failNextMatches(failNext, request)) return undefined;
        const remaining = failNext.count - 1;
        this.failNext = remaining > 0 ? { ...failNext, count: remaining } : null;
        return injectedReply(failNext.status, request.pathname);
    }
}

/** A 409 or 503 comes in the body Marathon gives it; any other status with a JSON message. */
function injectedReply(status: number, pathname: string) {
    if (status === 409) return locked([]);
    if (status === 503) return noLeader(pathname);
    return failure(status, injectedFailureMessage);
}

function readFailNext(value: unknown, errors: Violation[]): FailNext | null {
    if (value === null) return null;
    if (!isObject(value)) {
        report(errors, "/failNext", "expected an object or null");
        return null;
    }
    const status = value.status ?? 500;
    const count = value.count ?? 1;
    if (!Number.isInteger(status) || Number(status) < 100 || Number(status) > 599) {
        report(errors, "/failNext/status", "expected an HTTP status code");
    }
    if (!Number.isInteger(count) || Number(count) < 1) report(errors, "/failNext/count", "expected an integer >= 1");
    for (const field of ["method", "pathPrefix"]) {
        if (value[field] !== undefined && typeof value[field] !== "string")
            report(errors, `/failNext/${field}`, "expected a string");
    }
    return {
        status: Number(status),
        count: Number(count),
        method: typeof value.method === "string" ? value.method.toUpperCase() : undefined,
        pathPrefix: typeof value.pathPrefix === "string" ? value.pathPrefix : undefined,
    };
}

function failNextMatches(failNext: FailNext, request: RequestLine) {
    return (
        (failNext.method === undefined || failNext.method === request.method) &&
        (failNext.pathPrefix === undefined || request.pathname.startsWith(failNext.pathPrefix))
    );
}
