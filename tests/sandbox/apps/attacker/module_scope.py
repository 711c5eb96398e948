# Every attack runs at import, inside the zygote, before any invocation.
import attacks

RESULTS = attacks.run_all(attacks.targets_from_env())


def handler(event, context):
    return RESULTS
