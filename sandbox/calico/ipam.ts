// Calico IPAM as libcalico v0.12.0 does it (calico_containers/pycalico/ipam.py IPAMClient, block.py
// AllocationBlock), the library calico-libnetwork v0.8.0 runs on: pools are split into /26 blocks kept in etcd
// under /calico/ipam/v2/assignment/ipv4/block/<a.b.c.d-26>, each with a host affinity
// (/calico/ipam/v2/host/<host>/ipv4/block/<a.b.c.d-26>) and written only by compare-and-swap, so plugins on
// several hosts never hand out one address twice. Handles are not used (libnetwork passes handle_id=None).
import * as net from "node:net";
import { Etcd, errorCodes, EtcdError } from "./etcd";
import { pythonJson } from "./datastore";

const blockSize = 64;
const blockPrefix = 26;
/** ipam.py RETRIES. */
const maxRetries = 100;
const blocksPath = "/calico/ipam/v2/assignment/ipv4/block";

export interface Block {
    cidr: string;
    affinity: string;
    allocations: (number | null)[];
    attributes: object[];
    unallocated: number[];
}

export class AlreadyAssignedError extends Error {}
export class PoolNotFound extends Error {}

function toNumber(address: string) {
    return address.split(".").reduce((sum, octet) => sum * 256 + Number(octet), 0);
}

function toAddress(number: number) {
    return [24, 16, 8, 0].map((shift) => Math.floor(number / 2 ** shift) % 256).join(".");
}

function range(cidr: string): { first: number; size: number } {
    const [address, prefix] = cidr.split("/");
    const size = 2 ** (32 - Number(prefix));
    return { first: Math.floor(toNumber(address) / size) * size, size };
}

export function contains(cidr: string, address: string) {
    const { first, size } = range(cidr);
    const number = toNumber(address);
    return number >= first && number < first + size;
}

/** block.py get_block_cidr_for_address. */
function blockCidrOf(address: string) {
    return `${toAddress(Math.floor(toNumber(address) / blockSize) * blockSize)}/${blockPrefix}`;
}

const blockKey = (blockCidr: string) => `${blocksPath}/${blockCidr.replace("/", "-")}`;
const affinityKey = (host: string, blockCidr: string) =>
    `/calico/ipam/v2/host/${host}/ipv4/block/${blockCidr.replace("/", "-")}`;

/** A fresh AllocationBlock. */
function newBlock(cidr: string, host: string): Block {
    return {
        cidr,
        affinity: `host:${host}`,
        allocations: new Array(blockSize).fill(null),
        attributes: [],
        unallocated: [...Array(blockSize).keys()],
    };
}

/** AllocationBlock._find_or_add_attrs with handle None and no attributes. */
function attributeIndex(block: Block) {
    const index = block.attributes.findIndex(
        (attribute) => JSON.stringify(attribute) === JSON.stringify({ handle_id: null, secondary: {} }),
    );
    if (index >= 0) {
        return index;
    }
    block.attributes.push({ handle_id: null, secondary: {} });
    return block.attributes.length - 1;
}

export class Ipam {
    /** @param pools the IPAM pools' CIDRs (Datastore.ipamPools4) */
    constructor(
        private readonly etcd: Etcd,
        private readonly pools: () => Promise<string[]>,
    ) {}

    async readBlock(cidr: string): Promise<{ block: Block; index: number } | undefined> {
        const node = await this.etcd.get(blockKey(cidr), { quorum: true });
        return node === undefined
            ? undefined
            : { block: JSON.parse(node.value ?? "") as Block, index: node.modifiedIndex };
    }

    /** _compare_and_swap_block. */
    async swapBlock(block: Block, index: number | undefined): Promise<boolean> {
        try {
            await this.etcd.set(
                blockKey(block.cidr),
                pythonJson(block),
                index === undefined ? { prevExist: false } : { prevIndex: index },
            );
            return true;
        } catch (error) {
            if (
                error instanceof EtcdError &&
                (error.errorCode === errorCodes.compareFailed || error.errorCode === errorCodes.nodeExists)
            ) {
                return false;
            }
            throw error;
        }
    }

    /** _claim_block_affinity: false when another host holds the block. */
    async claimBlock(host: string, cidr: string) {
        await this.etcd.set(affinityKey(host, cidr), "");
        if (await this.swapBlock(newBlock(cidr, host), undefined)) {
            return true;
        }
        const existing = await this.readBlock(cidr);
        if (existing?.block.affinity === `host:${host}`) {
            return true;
        }
        await this.etcd.delete(affinityKey(host, cidr));
        return false;
    }

    /** assign_ip: the block is created (and claimed for `host`) when it does not exist yet. */
    async assign(address: string, host: string) {
        const cidr = blockCidrOf(address);
        for (let i = 0; i < maxRetries; i++) {
            const read = await this.readBlock(cidr);
            if (read === undefined) {
                if (!(await this.pools()).some((pool) => contains(pool, address))) {
                    throw new PoolNotFound(`${address} is not in any configured pool`);
                }
                await this.claimBlock(host, cidr);
                continue;
            }
            const ordinal = toNumber(address) - range(cidr).first;
            if (read.block.allocations[ordinal] !== null) {
                throw new AlreadyAssignedError(`${address} is already assigned in block ${cidr}`);
            }
            read.block.allocations[ordinal] = attributeIndex(read.block);
            read.block.unallocated = read.block.unallocated.filter((each) => each !== ordinal);
            if (await this.swapBlock(read.block, read.index)) {
                return;
            }
        }
        throw new Error("Hit max retries.");
    }

    /**
     * auto_assign_ips for one IPv4 address: the host's affine blocks first, then a new block claimed for it,
     * then any block with room (_auto_assign). @param pool a pool's CIDR, or any pool
     */
    async autoAssign(host: string, pool: string | undefined): Promise<string | undefined> {
        const pools = pool === undefined ? await this.pools() : [pool];
        const affine = await this.affineBlocks(host, pools);
        for (const cidr of affine) {
            const address = await this.assignFromBlock(cidr, host, true);
            if (address !== undefined) {
                return address;
            }
        }
        for (const cidr of allBlocks(pools)) {
            if ((await this.readBlock(cidr)) === undefined && (await this.claimBlock(host, cidr))) {
                const address = await this.assignFromBlock(cidr, host, true);
                if (address !== undefined) {
                    return address;
                }
            }
        }
        for (const cidr of allBlocks(pools).filter((each) => !affine.includes(each))) {
            const address = await this.assignFromBlock(cidr, host, false);
            if (address !== undefined) {
                return address;
            }
        }
        return undefined;
    }

    async affineBlocks(host: string, pools: string[]): Promise<string[]> {
        const node = await this.etcd.get(`/calico/ipam/v2/host/${host}/ipv4/block`, { quorum: true });
        return (node?.nodes ?? [])
            .map((child) => child.key.split("/")[8].replace("-", "/"))
            .filter((cidr) => pools.some((each) => contains(each, cidr.split("/")[0])));
    }

    /** _auto_assign_block for one address: the first of `unallocated`, so released addresses come back last. */
    async assignFromBlock(cidr: string, host: string, affinityCheck: boolean) {
        for (let i = 0; i < maxRetries; i++) {
            const read = await this.readBlock(cidr);
            if (
                read === undefined ||
                (affinityCheck && read.block.affinity !== `host:${host}`) ||
                read.block.unallocated.length === 0
            ) {
                return undefined;
            }
            const ordinal = read.block.unallocated.shift() as number;
            read.block.allocations[ordinal] = attributeIndex(read.block);
            if (await this.swapBlock(read.block, read.index)) {
                return toAddress(range(cidr).first + ordinal);
            }
        }
        throw new Error("Hit Max Retries.");
    }

    /** release_ips for one address; an address not allocated is fine. */
    async release(address: string) {
        const cidr = blockCidrOf(address);
        for (let i = 0; i < maxRetries; i++) {
            const read = await this.readBlock(cidr);
            const ordinal = toNumber(address) - range(cidr).first;
            if (read === undefined || read.block.allocations[ordinal] === null) {
                return;
            }
            const attribute = read.block.allocations[ordinal];
            read.block.allocations[ordinal] = null;
            read.block.unallocated.push(ordinal);
            if (!read.block.allocations.includes(attribute)) {
                removeAttribute(read.block, attribute as number);
            }
            if (await this.swapBlock(read.block, read.index)) {
                return;
            }
        }
        throw new Error("Hit Max retries.");
    }
}

/** AllocationBlock._delete_attributes: later indexes shift down by one. */
function removeAttribute(block: Block, index: number) {
    block.attributes.splice(index, 1);
    block.allocations = block.allocations.map((each) => (each !== null && each > index ? each - 1 : each));
}

/** Every /26 of the pools, in order (pool.cidr.subnet(26)). */
function allBlocks(pools: string[]) {
    return pools.flatMap((pool) => {
        const { first, size } = range(pool);
        return Array.from(
            { length: Math.max(1, size / blockSize) },
            (_, i) => `${toAddress(first + i * blockSize)}/${blockPrefix}`,
        );
    });
}

export function isIPv4(text: string) {
    return net.isIPv4(text);
}
