// The stand-in's routes: Marathon's v2 API and the sandbox's fault switches.
import { absoluteId, rootGroupId } from "./ids";
import { failure } from "./replies";
import type { Marathon, Request } from "./api";
import type { Reply } from "./replies";

type Handler = (marathon: Marathon, request: Request, param: string) => Reply;

const routeTable: { pattern: RegExp; methods: Record<string, Handler> }[] = [
    { pattern: /^\/ping$/, methods: { GET: (marathon) => marathon.ping() } },
    { pattern: /^\/v2\/info$/, methods: { GET: (marathon) => marathon.info() } },
    {
        pattern: /^\/v2\/groups(\/.*)?$/,
        methods: {
            GET: (marathon, _request, id) => marathon.getGroup(id),
            PUT: (marathon, request, id) => marathon.putGroup(request, absoluteId(id, rootGroupId)),
            POST: (marathon, request, id) => marathon.postGroup(request, absoluteId(id, rootGroupId)),
            DELETE: (marathon, request, id) => marathon.deleteGroup(request, absoluteId(id, rootGroupId)),
        },
    },
    { pattern: /^\/v2\/deployments\/?$/, methods: { GET: (marathon) => marathon.listDeployments() } },
    {
        pattern: /^\/v2\/deployments\/([^/]+)$/,
        methods: { DELETE: (marathon, request, id) => marathon.deleteDeployment(request, id) },
    },
    { pattern: /^\/v2\/apps(\/.*)?$/, methods: { GET: (marathon, request, id) => marathon.getApps(request, id) } },
    { pattern: /^\/v2\/tasks\/?$/, methods: { GET: (marathon) => marathon.getTasks() } },
    {
        pattern: /^\/_sandbox\/faults$/,
        methods: {
            GET: (marathon) => marathon.getFaults(),
            POST: (marathon, request) => marathon.setFaults(request),
            DELETE: (marathon) => marathon.resetFaults(),
        },
    },
];

function route(marathon: Marathon, request: Request): Reply {
    for (const { pattern, methods } of routeTable) {
        const match = pattern.exec(request.pathname);
        if (!match) continue;
        const handler = methods[request.method];
        if (!handler) {
            return {
                ...failure(405, "HTTP 405 Method Not Allowed"),
                headers: { Allow: Object.keys(methods).join(", ") },
            };
        }
        return handler(marathon, request, match[1] ?? "");
    }
    return failure(404, `No route for ${request.method} ${request.pathname}`);
}

/** The faults come first, then the route; an exception is Marathon's 500. */
export function handle(marathon: Marathon, request: Request): Reply {
    try {
        return marathon.faults.take(request) ?? route(marathon, request);
    } catch (error) {
        return failure(500, error instanceof Error ? error.message : String(error));
    }
}
