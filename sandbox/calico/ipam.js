// @ts-check
// Calico IPAM as libcalico v0.12.0 does it (calico_containers/pycalico/ipam.py IPAMClient, block.py
// AllocationBlock), the library calico-libnetwork v0.8.0 runs on: pools are split into /26 blocks kept in etcd
// under /calico/ipam/v2/assignment/ipv4/block/<a.b.c.d-26>, each with a host affinity
// (/calico/ipam/v2/host/<host>/ipv4/block/<a.b.c.d-26>) and written only by compare-and-swap, so plugins on
// several hosts never hand out one address twice. Handles are not used (libnetwork passes handle_id=None).
"use strict";
const net = require("node:net");
const { errorCodes } = require("./etcd");
const { pythonJson } = require("./datastore");

const BLOCK_SIZE = 64;
const BLOCK_PREFIX = 26;
/** ipam.py RETRIES. */
const RETRIES = 100;
const blocksPath = "/calico/ipam/v2/assignment/ipv4/block";

/** @typedef {import("./etcd").Etcd} Etcd */
/** @typedef {{ cidr: string, affinity: string, allocations: (number | null)[], attributes: object[], unallocated: number[] }} Block */

class AlreadyAssignedError extends Error {}
class PoolNotFound extends Error {}

/** @param {string} address */
function toNumber(address) {
    return address.split(".").reduce((sum, octet) => sum * 256 + Number(octet), 0);
}

/** @param {number} number */
function toAddress(number) {
    return [24, 16, 8, 0].map((shift) => Math.floor(number / 2 ** shift) % 256).join(".");
}

/** @param {string} cidr @returns {{ first: number, size: number }} */
function range(cidr) {
    const [address, prefix] = cidr.split("/");
    const size = 2 ** (32 - Number(prefix));
    return { first: Math.floor(toNumber(address) / size) * size, size };
}

/** @param {string} cidr @param {string} address */
function contains(cidr, address) {
    const { first, size } = range(cidr);
    const number = toNumber(address);
    return number >= first && number < first + size;
}

/** block.py get_block_cidr_for_address. @param {string} address */
function blockCidrOf(address) {
    return `${toAddress(Math.floor(toNumber(address) / BLOCK_SIZE) * BLOCK_SIZE)}/${BLOCK_PREFIX}`;
}

/** @param {string} blockCidr */
const blockKey = (blockCidr) => `${blocksPath}/${blockCidr.replace("/", "-")}`;
/** @param {string} host @param {string} blockCidr */
const affinityKey = (host, blockCidr) => `/calico/ipam/v2/host/${host}/ipv4/block/${blockCidr.replace("/", "-")}`;

/** A fresh AllocationBlock. @param {string} cidr @param {string} host @returns {Block} */
function newBlock(cidr, host) {
    return { cidr, affinity: `host:${host}`, allocations: new Array(BLOCK_SIZE).fill(null), attributes: [],
        unallocated: [...Array(BLOCK_SIZE).keys()] };
}

/** AllocationBlock._find_or_add_attrs with handle None and no attributes. @param {Block} block */
function attributeIndex(block) {
    const index = block.attributes.findIndex((attribute) => JSON.stringify(attribute) === JSON.stringify({ handle_id: null, secondary: {} }));
    if (index >= 0) {
        return index;
    }
    block.attributes.push({ handle_id: null, secondary: {} });
    return block.attributes.length - 1;
}

class Ipam {
    /** @param {Etcd} etcd @param {() => Promise<string[]>} pools the IPAM pools' CIDRs (Datastore.ipamPools4) */
    constructor(etcd, pools) {
        this.etcd = etcd;
        this.pools = pools;
    }

    /** @param {string} cidr @returns {Promise<{ block: Block, index: number } | undefined>} */
    async readBlock(cidr) {
        const node = await this.etcd.get(blockKey(cidr), { quorum: true });
        return node === undefined ? undefined : { block: JSON.parse(node.value ?? ""), index: node.modifiedIndex };
    }

    /** _compare_and_swap_block. @param {Block} block @param {number | undefined} index @returns {Promise<boolean>} */
    async swapBlock(block, index) {
        try {
            await this.etcd.set(blockKey(block.cidr), pythonJson(block), index === undefined ? { prevExist: false } : { prevIndex: index });
            return true;
        } catch (error) {
            if (/** @type {any} */ (error).errorCode === errorCodes.compareFailed || /** @type {any} */ (error).errorCode === errorCodes.nodeExists) {
                return false;
            }
            throw error;
        }
    }

    /** _claim_block_affinity: false when another host holds the block. @param {string} host @param {string} cidr */
    async claimBlock(host, cidr) {
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

    /**
     * assign_ip: the block is created (and claimed for `host`) when it does not exist yet.
     * @param {string} address @param {string} host
     */
    async assign(address, host) {
        const cidr = blockCidrOf(address);
        for (let i = 0; i < RETRIES; i++) {
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
     * then any block with room (_auto_assign).
     * @param {string} host @param {string | undefined} pool a pool's CIDR, or any pool
     * @returns {Promise<string | undefined>}
     */
    async autoAssign(host, pool) {
        const pools = pool === undefined ? await this.pools() : [pool];
        const affine = await this.affineBlocks(host, pools);
        for (const cidr of affine) {
            const address = await this.assignFromBlock(cidr, host, true);
            if (address !== undefined) {
                return address;
            }
        }
        for (const cidr of allBlocks(pools)) {
            if (await this.readBlock(cidr) === undefined && await this.claimBlock(host, cidr)) {
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

    /** @param {string} host @param {string[]} pools @returns {Promise<string[]>} */
    async affineBlocks(host, pools) {
        const node = await this.etcd.get(`/calico/ipam/v2/host/${host}/ipv4/block`, { quorum: true });
        return (node?.nodes ?? []).map((child) => child.key.split("/")[8].replace("-", "/"))
            .filter((cidr) => pools.some((each) => contains(each, cidr.split("/")[0])));
    }

    /**
     * _auto_assign_block for one address: the first of `unallocated`, so released addresses come back last.
     * @param {string} cidr @param {string} host @param {boolean} affinityCheck
     */
    async assignFromBlock(cidr, host, affinityCheck) {
        for (let i = 0; i < RETRIES; i++) {
            const read = await this.readBlock(cidr);
            if (read === undefined || (affinityCheck && read.block.affinity !== `host:${host}`) || read.block.unallocated.length === 0) {
                return undefined;
            }
            const ordinal = /** @type {number} */ (read.block.unallocated.shift());
            read.block.allocations[ordinal] = attributeIndex(read.block);
            if (await this.swapBlock(read.block, read.index)) {
                return toAddress(range(cidr).first + ordinal);
            }
        }
        throw new Error("Hit Max Retries.");
    }

    /** release_ips for one address; an address not allocated is fine. @param {string} address */
    async release(address) {
        const cidr = blockCidrOf(address);
        for (let i = 0; i < RETRIES; i++) {
            const read = await this.readBlock(cidr);
            const ordinal = toNumber(address) - range(cidr).first;
            if (read === undefined || read.block.allocations[ordinal] === null) {
                return;
            }
            const attribute = read.block.allocations[ordinal];
            read.block.allocations[ordinal] = null;
            read.block.unallocated.push(ordinal);
            if (!read.block.allocations.includes(attribute)) {
                removeAttribute(read.block, /** @type {number} */ (attribute));
            }
            if (await this.swapBlock(read.block, read.index)) {
                return;
            }
        }
        throw new Error("Hit Max retries.");
    }
}

/** AllocationBlock._delete_attributes: later indexes shift down by one. @param {Block} block @param {number} index */
function removeAttribute(block, index) {
    block.attributes.splice(index, 1);
    block.allocations = block.allocations.map((each) => (each !== null && each > index ? each - 1 : each));
}

/** Every /26 of the pools, in order (pool.cidr.subnet(26)). @param {string[]} pools */
function allBlocks(pools) {
    return pools.flatMap((pool) => {
        const { first, size } = range(pool);
        return Array.from({ length: Math.max(1, size / BLOCK_SIZE) }, (_, i) => `${toAddress(first + i * BLOCK_SIZE)}/${BLOCK_PREFIX}`);
    });
}

/** @param {string} text */
function isIPv4(text) {
    return net.isIPv4(text);
}

module.exports = { Ipam, AlreadyAssignedError, PoolNotFound, blockCidrOf, contains, isIPv4, range, toNumber, toAddress, blocksPath };
