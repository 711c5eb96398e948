# The attacks again, from a child process the manifest allows (bin/python):
# a fresh interpreter without the runtime's audit hooks, so only the kernel's
# layers stand in its way.
import json
import os
import subprocess


def handler(event, context):
    env = dict(os.environ)
    with open("/var/task/targets.json") as f:
        prefix = json.load(f)["python_prefix"]
    env.update({"PYTHONHOME": prefix, "PYTHONPATH": "/var/task",
                "PYTHONDONTWRITEBYTECODE": "1"})
    code = "import attacks, json; print(json.dumps(attacks.run_all(attacks.targets_from_env())))"
    out = subprocess.run(["/var/task/bin/python", "-S", "-c", code], env=env,
                         capture_output=True, timeout=50, cwd="/var/task")
    if out.returncode != 0:
        raise RuntimeError(out.stderr.decode(errors="replace")[-2000:])
    return json.loads(out.stdout)
