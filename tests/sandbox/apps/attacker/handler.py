import attacks


def handler(event, context):
    targets = attacks.targets_from_env()
    names = event.get("attacks") or list(attacks.ATTACKS)
    return [attacks.run(name, targets) for name in names]
