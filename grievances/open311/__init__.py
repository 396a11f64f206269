"""Open311 GeoReport v2 (the city-311 API) for grievances, under /open311/.

What the spec (open311.github.io GeoReport_v2) fixes and this package keeps to the letter:
XML is the required format and the default, JSON the optional one; a single-request GET
still answers a list; ids and codes are strings; every date carries its time zone;
errors are `<errors><error><code/><description/></error></errors>` (or a JSON list) with
the HTTP status 400, 403 or 404.

Decisions where the spec leaves room:

- Jurisdictions: one per community, `jurisdiction_id` = Community.code. The services are
  the same for all; a given jurisdiction must exist (404), a missing one means "all" on
  reads; a POST files into the community its API key was issued for.
- Services are the active leaf categories (a subcategory, or a top-level category without
  active children); `group` is the parent's name. Requests are `realtime`: the id is
  returned at once, so no token is ever issued (the tokens endpoint answers 404).
- Only public grievances are readable: public, not in a private category, not an
  anonymous suggestion. Anything else answers exactly as an unknown id does (404).
  No personal data leaves: never the caller's or reporter's name or phone, no household
  or room, no photos (media_url stays empty), only public timeline notes.
"""
