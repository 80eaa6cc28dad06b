"""The write limit: N writes a window per key, then 429 with an integer Retry-After."""

from __future__ import annotations

from events_gateway.emulator import DEMO_API_KEY, DEMO_WORKSPACE, EmulatorSettings
from events_gateway.emulator.errors import THROTTLED

from ..conftest import EmulatorFactory
from .conftest import ClientFor

OTHER_KEY = "0f9e8d7c-6b5a-4321-8fed-cba987654321"


async def test_writes_over_the_limit_are_429_with_retry_after(
    emulator_factory: EmulatorFactory, client_for: ClientFor
) -> None:
    emulator = await emulator_factory(
        write_limit=3, api_keys={DEMO_API_KEY: DEMO_WORKSPACE, OTHER_KEY: "other"}
    )
    async with client_for(emulator) as api, client_for(emulator, OTHER_KEY) as other:
        event = (await api.get("/event/events")).json()["results"][0]
        for n in range(3):
            response = await api.patch(f"/event/events/{event['id']}", json={"description": f"v{n}"})
            assert response.status_code == 200
        response = await api.patch(f"/event/events/{event['id']}", json={"description": "too many"})
        assert response.status_code == 429
        retry_after = int(response.headers["Retry-After"])
        assert 1 <= retry_after <= 60
        assert response.json() == {"detail": THROTTLED.format(seconds=retry_after)}
        # The refused write changed nothing; reads are not limited; other keys have their own window.
        assert (await api.get(f"/event/events/{event['id']}")).json()["description"] == "v2"
        assert (await api.post("/event/category", json={})).status_code == 429
        other_category = (await other.get("/event/category")).json()["results"][0]
        assert (await other.get(f"/event/category/{other_category['id']}")).status_code == 200
        assert (await other.post("/event/category", json={})).status_code == 400


async def test_the_default_limit_is_thirty_a_minute(
    emulator_factory: EmulatorFactory, client_for: ClientFor
) -> None:
    # The test fixtures turn the limit off; put back the settings' own default, not a copy of its value.
    emulator = await emulator_factory(write_limit=EmulatorSettings().write_limit)
    async with client_for(emulator) as api:
        statuses = [(await api.post("/event/category", json={})).status_code for _ in range(31)]
    assert statuses == [400] * 30 + [429]


async def test_reset_clears_the_windows(emulator_factory: EmulatorFactory, client_for: ClientFor) -> None:
    from events_gateway.emulator import EmulatorAdmin

    emulator = await emulator_factory(write_limit=1)
    async with client_for(emulator) as api, EmulatorAdmin(emulator.url) as admin:
        assert (await api.post("/event/category", json={})).status_code == 400
        assert (await api.post("/event/category", json={})).status_code == 429
        await admin.reset()
        assert (await api.post("/event/category", json={})).status_code == 400
        await admin.configure(write_limit=None)
        assert all([(await api.post("/event/category", json={})).status_code == 400 for _ in range(5)])
