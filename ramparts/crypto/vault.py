"""Everything encryption a node needs, assembled once at start.

``open_vault`` finds the master key (creating it only for a store without
KEKs), loads and checks the keyring (a wrong master key stops the node here,
before it serves anything), and builds the sealer, the secret store and the
background re-wrapper that the node wires into its seams.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ramparts.crypto.envelope import Sealer
from ramparts.crypto.keyring import Keyring, has_keks
from ramparts.crypto.masterkey import MasterKey, resolve_master_key
from ramparts.crypto.rewrap import Rewrapper
from ramparts.errors import ConfigError, InvalidRequest
from ramparts.secrets.store import SecretStore
from ramparts.store.base import Store


@dataclass
class Vault:
    master: MasterKey
    keyring: Keyring
    sealer: Sealer
    secrets: SecretStore
    rewrapper: Rewrapper

    def rotate(self) -> dict[str, Any]:
        info = self.keyring.rotate()
        job = self.rewrapper.start_job(info.id)
        return {"kek": info.to_dict(), "rewrap": job}

    def status(self) -> dict[str, Any]:
        self.keyring.refresh()
        return {
            "master_key": self.master.key_id,
            "current": self.keyring.current_id,
            "keks": [k.to_dict() for k in self.keyring.list()],
            "rewrap": self.rewrapper.status(),
        }

    def retire(self, kek_id: str) -> dict[str, Any]:
        """Retire an old KEK once no stored record needs it any more."""
        keks = {k.id: k for k in self.keyring.list()}
        job = self.rewrapper.status()
        if job is not None and job["state"] == "running":
            raise InvalidRequest(
                "a re-wrap is still running; wait for 'ramparts encryption status' to say done",
                code="rewrap_running",
            )
        newer = [k for k in keks.values() if kek_id in keks and k.seq > keks[kek_id].seq]
        # A retired KEK must have been superseded long enough for every node to have
        # loaded its successor (see Rewrapper.retire_grace) before it disappears.
        grace = self.rewrapper.retire_grace
        if newer and time.time() - min(k.created_at for k in newer) < grace:
            raise InvalidRequest(
                "the key was superseded moments ago; retry in a few seconds", code="kek_too_recent"
            )
        # Writes that raced the rotation may still sit under the old KEK: sweep them now.
        if kek_id in keks and self.rewrapper.remaining(kek_id):
            if kek_id == self.keyring.current_id:
                pass  # retire() below refuses the current key with a clear message
            else:
                self.rewrapper.start_job(self.keyring.current_id)
                while self.rewrapper.step():
                    pass
                left = self.rewrapper.remaining(kek_id)
                if left:
                    raise InvalidRequest(
                        f"{left} records under {kek_id} cannot be re-wrapped (see the node log)",
                        code="rewrap_incomplete",
                    )
        return self.keyring.retire(kek_id).to_dict()


def open_vault(store: Store, data_dir: Path) -> Vault:
    engine = getattr(store, "engine", None)
    if engine is None:
        raise ConfigError("encryption at rest needs the SQL state store")
    master = resolve_master_key(data_dir, create=not has_keks(engine))
    keyring = Keyring(engine, master)
    sealer = Sealer(keyring)
    secrets = SecretStore(engine, sealer)
    return Vault(master, keyring, sealer, secrets, Rewrapper(engine, keyring, sealer))
