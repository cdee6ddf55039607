#!/usr/bin/env python2.7
"""Fills in calicoctl v0.19.0's answers in test/unit/calicoRuleVectors.json by running its own code.

Not run by npm test: it needs CPython 2.7 and the sources at their tags, in one directory (SOURCES):
  SOURCES/calicoctl            projectcalico/calico-containers v0.19.0: calicoctl/
  SOURCES/pycalico             projectcalico/libcalico v0.14.0: calico_containers/pycalico/
  SOURCES/netaddr              netaddr/netaddr netaddr-0.7.18: netaddr/
  SOURCES/docopt.py            docopt/docopt 0.6.2: docopt.py
(netaddr and docopt at the versions libcalico v0.14.0's build-requirements-frozen.txt froze into the
calico/build:v0.14.0 image, which calico-containers v0.19.0's Makefile builds calicoctl in). For example, from
clones of those repositories: `git -C calico-containers archive v0.19.0 calicoctl | tar x -C SOURCES`, and so
on. etcd and Docker are replaced by the small in-memory stand-ins below (and subprocess32 and prettytable,
which these commands do not use); everything else is the released code. Each command runs in its own
process on a profile "vec" that holds no rules before it.
Usage: python2.7 calicoctlOracle.py SOURCES test/unit/calicoRuleVectors.json
"""
import json, os, shutil, subprocess, sys, tempfile
from collections import OrderedDict

STUB_ETCD = r'''
import json, os
class EtcdException(Exception): pass
class EtcdKeyError(EtcdException): pass
class EtcdKeyNotFound(EtcdKeyError): pass
class EtcdNotFile(EtcdKeyError): pass
class EtcdNotDir(EtcdKeyError): pass
class EtcdAlreadyExist(EtcdKeyError): pass
class EtcdCompareFailed(EtcdException): pass
def _load():
    return json.load(open(os.environ["FAKE_ETCD"]))
def _save(data):
    json.dump(data, open(os.environ["FAKE_ETCD"], "w"))
class EtcdResult(object):
    def __init__(self, key, value, data):
        self.key, self.value, self._data = key, value, data
    @property
    def children(self):
        prefix = self.key.rstrip("/") + "/"
        names = sorted(set(k[len(prefix):].split("/")[0] for k in self._data if k.startswith(prefix)))
        return [EtcdResult(prefix + n, self._data.get(prefix + n), self._data) for n in names]
class Client(object):
    def __init__(self, *args, **kwargs): pass
    def read(self, key, recursive=False, **kwargs):
        key, data = key.rstrip("/"), _load()
        if key in data:
            return EtcdResult(key, data[key], data)
        if any(k.startswith(key + "/") for k in data):
            return EtcdResult(key, None, data)
        raise EtcdKeyNotFound("Key not found : %s" % key)
    def write(self, key, value, dir=False, **kwargs):
        data = _load()
        if not dir:
            data[key.rstrip("/")] = value
        _save(data)
    def delete(self, key, recursive=False, dir=False, **kwargs):
        data, key = _load(), key.rstrip("/")
        gone = [k for k in data if k == key or k.startswith(key + "/")]
        if not gone:
            raise EtcdKeyNotFound("Key not found : %s" % key)
        for k in gone:
            del data[k]
        _save(data)
'''
STUB_DOCKER = r'''
from docker import errors
class Client(object):
    def __init__(self, *args, **kwargs): pass
    def inspect_network(self, name):
        raise errors.APIError("404 no such network %s" % name)
'''
# calicoctl.py's main, reduced to the profile command: the same docopt calls and exception handling.
MAIN = r'''
import sys, traceback
from docopt import docopt
from pycalico.datastore_errors import DataStoreError
from calico_ctl.utils import print_paragraph
command_args = docopt("Usage: calicoctl <command> [<args>...]\n", options_first=True)
argv = [command_args['<command>']] + command_args['<args>']
try:
    import calico_ctl.profile as command_module
    arguments = docopt(command_module.__doc__, argv=argv)
    command_module.profile(arguments)
except SystemExit:
    raise
except DataStoreError as e:
    print_paragraph(e.message)
    sys.exit(1)
except BaseException as e:
    print "{0}: {1}\n".format(type(e).__name__, e)
    traceback.print_exc()
    sys.exit(1)
'''

PROFILE = "vec"
RULES_KEY = "/calico/v1/policy/profile/%s/rules" % PROFILE


def prepare(sources):
    root = tempfile.mkdtemp(prefix="calicoctl-oracle-")
    for name in ("pycalico", "netaddr", "docopt.py"):
        src = os.path.join(sources, name)
        (shutil.copytree if os.path.isdir(src) else shutil.copy)(src, os.path.join(root, name))
    shutil.copytree(os.path.join(sources, "calicoctl", "calico_ctl"), os.path.join(root, "calico_ctl"))
    os.makedirs(os.path.join(root, "docker"))
    files = {"etcd.py": STUB_ETCD, "docker/__init__.py": STUB_DOCKER,
             "docker/errors.py": "class APIError(Exception): pass\n",
             "subprocess32.py": "from subprocess import *\n",
             "prettytable.py": "PrettyTable = None\n", "main.py": MAIN}
    for name, text in files.items():
        with open(os.path.join(root, name), "w") as f:
            f.write(text)
    return root


def empty_profile(etcd_file):
    with open(etcd_file, "w") as f:
        json.dump({"/calico/v1/policy/profile/%s/tags" % PROFILE: '["%s"]' % PROFILE,
                   "/calico/v1/policy/profile/%s/labels" % PROFILE: "{}",
                   RULES_KEY: '{"id": "%s", "inbound_rules": [], "outbound_rules": []}' % PROFILE}, f)


def calicoctl(root, etcd_file, args, stdin=""):
    # calico_ctl's modules import each other as top-level modules (Python 2 implicit relative imports)
    env = dict(os.environ, FAKE_ETCD=etcd_file, PYTHONPATH=os.pathsep.join([root, os.path.join(root, "calico_ctl")]))
    child = subprocess.Popen([sys.executable, os.path.join(root, "main.py"), "profile", PROFILE] + args, env=env,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = child.communicate(stdin)
    return child.returncode, out, err


def stored(etcd_file):
    return json.load(open(etcd_file)).get(RULES_KEY)


def strip(text, prefix, suffix, what):
    if not (text.startswith(prefix) and text.endswith(suffix)):
        raise SystemExit("unexpected %s: %r" % (what, text))
    return text[len(prefix):len(text) - len(suffix)]


def outcome(root, etcd_file, args, stdin=""):
    """One command on a profile with no rules; when it succeeds, the rule as rule show, etcd and rule json have it."""
    empty_profile(etcd_file)
    before = stored(etcd_file)
    code, out, err = calicoctl(root, etcd_file, args, stdin)
    result = OrderedDict([("exit", code), ("stdout", out.decode("utf-8"))])
    if err.strip():
        result["stderrLast"] = err.strip().splitlines()[-1].decode("utf-8")
    if stored(etcd_file) == before:
        return result
    result["stored"] = strip(stored(etcd_file), '{"id": "vec", "inbound_rules": [', '], "outbound_rules": []}', "etcd value")
    show_code, show, _ = calicoctl(root, etcd_file, ["rule", "show"])
    if show_code == 0:
        result["show"] = strip(show, "Inbound rules:\n   1 ", "\nOutbound rules:\n", "rule show").decode("utf-8")
    else:
        result["showFailure"] = OrderedDict([("exit", show_code), ("stdout", show.decode("utf-8"))])
    json_code, printed, _ = calicoctl(root, etcd_file, ["rule", "json"])
    if json_code == 0:
        result["printed"] = strip(printed, '{\n  "id": "vec", \n  "inbound_rules": [\n',
                                  '\n  ], \n  "outbound_rules": []\n}\n\n', "rule json").decode("utf-8")
    else:
        result["jsonFailure"] = OrderedDict([("exit", json_code), ("stdout", printed.decode("utf-8"))])
    return result


def update_document(rules):
    return json.dumps(OrderedDict([("id", PROFILE), ("inbound_rules", rules), ("outbound_rules", [])]), separators=(",", ":"))


def ordered(entry, order):
    items = sorted(entry.items(), key=lambda item: order.index(item[0]))
    entry.clear()
    entry.update(items)


def main(sources, vectors_path):
    root = prepare(sources)
    etcd_file = os.path.join(root, "etcd.json")
    document = json.load(open(vectors_path), object_pairs_hook=OrderedDict)
    for entry in document["storedByOthers"]:
        entry["ruleUpdate"] = outcome(root, etcd_file, ["rule", "update"], update_document([entry["json"]]))
        ordered(entry, ["json", "ruleUpdate", "program"])
    for vector in document["ruleText"]:
        words = vector["rule"].encode("utf-8").split(" ")
        vector["ruleAdd"] = outcome(root, etcd_file, ["rule", "add", "inbound"] + words)
        program = vector["program"]
        if "json" in program:
            vector["ruleUpdate"] = outcome(root, etcd_file, ["rule", "update"], update_document([program["json"]]))
        else:
            vector.pop("ruleUpdate", None)
        ordered(vector, ["rule", "ruleAdd", "program", "ruleUpdate", "why"])
    with open(vectors_path, "w") as f:
        f.write(json.dumps(document, indent=2, separators=(",", ": "), ensure_ascii=False).encode("utf-8") + "\n")
    shutil.rmtree(root)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
