// The engine loads the Pulumi SDK the program itself resolves, so that the provider host, the gRPC stubs and the
// message classes are the very copies `pulumi up` would use with this project. The engine's own.
import * as path from "path";

export function pulumiSdkDir(fromDir: string): string {
    return path.dirname(require.resolve("@pulumi/pulumi/package.json", { paths: [fromDir] }));
}

export function requireFromSdk<T>(sdkDir: string, request: string): T {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the path is known only at run time
    return require(require.resolve(request, { paths: [sdkDir] })) as T;
}
