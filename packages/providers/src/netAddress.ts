// Addresses, ports and IPv4 network arithmetic, as config validation needs them.
import * as net from "net";

const hostnamePattern =
    /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** An all-digit last label is a mistyped IP address (10.0.0.256), never a DNS name. */
export function isDnsName(value: string): boolean {
    return hostnamePattern.test(value) && !/(^|\.)[0-9]+$/.test(value);
}

function isIp(value: string): boolean {
    return net.isIP(value) !== 0;
}

export function isIpv4(value: string): boolean {
    return net.isIPv4(value);
}

export function isAddress(value: string): boolean {
    return isIp(value) || isDnsName(value);
}

export function isPortText(text: string): boolean {
    return /^[1-9][0-9]{0,4}$/.test(text) && Number(text) <= 65535;
}

/** "host:port", split at the last colon; undefined when the port part is not 1-65535. */
export function splitHostPort(value: string): { host: string } | undefined {
    const match = /^(.+):([^:]*)$/.exec(value);
    return match !== null && isPortText(match[2]) ? { host: match[1] } : undefined;
}

export function isCidr(value: string): boolean {
    const match = /^(\d+\.\d+\.\d+\.\d+)\/(0|[1-9][0-9]?)$/.exec(value);
    return match !== null && isIpv4(match[1]) && Number(match[2]) <= 32;
}

function ipv4ToInt(dotted: string): number {
    return dotted.split(".").reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

/** The block's network: its address with the host bits cleared. */
export function networkOf(block: string): string {
    const [base, bits] = block.split("/");
    const size = 2 ** (32 - Number(bits));
    const network = Math.floor(ipv4ToInt(base) / size) * size;
    return `${[24, 16, 8, 0].map((shift) => Math.floor(network / 2 ** shift) % 256).join(".")}/${bits}`;
}

export function ipv4InCidr(ip: string, block: string): boolean {
    const [base, bits] = block.split("/");
    const size = 2 ** (32 - Number(bits));
    return Math.floor(ipv4ToInt(ip) / size) === Math.floor(ipv4ToInt(base) / size);
}
