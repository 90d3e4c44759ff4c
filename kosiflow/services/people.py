"""Personal data on request: find a person, erase their name and contact (GDPR Art. 17).

Events name people only by pseudonymous ids, so erasing a person changes no event and every
hash chain still verifies; the history then shows "erased person" where the name was. An
erased user's API token and browser sessions stop working at once.
"""

from __future__ import annotations

from kosiflow.errors import BadInput, NotFound
from kosiflow.services.base import ServiceBase
from kosiflow.store import Person


class PeopleServices(ServiceBase):
    def find_people(self, key: str) -> list[Person]:
        """The people whose pseudonymous id or name is ``key`` (erased ones included).

        Raises:
            NotFound: nobody has that id or name.
        """
        with self.database.read() as unit:
            found = unit.find_people(key)
        if not found:
            raise NotFound("person", key)
        return found

    def erase_people(self, key: str, *, every: bool = False) -> list[Person]:
        """Erase the name and contact of the person ``key`` names (by id, or by a name only
        one person has; with ``every``, of everyone with that name); returns them as they were.

        Raises:
            NotFound: nobody has that id or name.
            BadInput: several people have that name and ``every`` is not set (each is listed),
                or everyone named is erased already.
        """
        found = [p for p in self.find_people(key) if p.erased_at is None]
        if not found:
            raise BadInput("person", f"{key!r} is erased already")
        if len(found) > 1 and not every:
            ids = ", ".join(p.id for p in found)
            raise BadInput(
                "person", f"{len(found)} people are named {key!r} ({ids}): give an id, or all"
            )
        with self.database.write() as unit:
            for person in found:
                unit.erase_person(person.id)
        return found
