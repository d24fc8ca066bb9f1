"""The Fever API (/fever/), tested from the published Fever API description: the key is
the MD5 of "user:password", a wrong one answers auth 0 (never a 401), ids are integers and
lists of ids are comma-separated strings."""

from __future__ import annotations

import hashlib

import pytest
from bs4 import BeautifulSoup
from test_api import library  # noqa: F401  (a library with a subscription, a fixture)

from conftest import CROSS_SITE
from webreader import auth, create_app
from webreader.db import open_db

FEVER_PASSWORD = "a fever password"


@pytest.fixture
def fever(library):  # noqa: F811
    db = open_db(library["path"])
    auth.set_fever_password(db, "reader", FEVER_PASSWORD)
    db.close()
    app = create_app({"DATABASE": str(library["path"]), "TESTING": True, "LOGIN_REQUIRED": True})
    client = app.test_client()
    key = hashlib.md5(f"reader:{FEVER_PASSWORD}".encode()).hexdigest()

    def call(query: str = "", **form):
        return client.post(f"/fever/?api&{query}", data={"api_key": key, **form})

    call.client = client
    call.key = key
    return call


def test_a_wrong_key_answers_auth_0_with_a_200(fever):
    for key in ["", "0" * 32, hashlib.md5(b"reader:wrong").hexdigest()]:
        response = fever.client.post("/fever/?api", data={"api_key": key})
        assert response.status_code == 200
        assert response.get_json() == {"api_version": 3, "auth": 0}


def test_the_key_may_come_in_the_query_or_in_any_case(fever):
    answer = fever.client.get(f"/fever/?api&api_key={fever.key.upper()}").get_json()
    assert answer["auth"] == 1 and answer["api_version"] == 3
    assert isinstance(answer["last_refreshed_on_time"], int)


def test_groups_and_feeds_with_their_string_lists(fever):
    answer = fever("groups").get_json()
    groups = {g["title"]: g["id"] for g in answer["groups"]}
    assert set(groups) == {"All", "Local"} and all(isinstance(i, int) for i in groups.values())
    for mapping in answer["feeds_groups"]:
        assert isinstance(mapping["group_id"], int) and isinstance(mapping["feed_ids"], str)
        assert all(part.isdigit() for part in mapping["feed_ids"].split(","))
    feeds = fever("feeds").get_json()["feeds"]
    local = next(f for f in feeds if f["title"] == "Știri locale")
    assert set(local) == {
        "id", "favicon_id", "title", "url", "site_url", "is_spark", "last_updated_on_time",
    }  # fmt: skip
    assert local["is_spark"] == 0 and isinstance(local["last_updated_on_time"], int)
    grouped = {m["group_id"]: m["feed_ids"].split(",") for m in answer["feeds_groups"]}
    assert str(local["id"]) in grouped[groups["Local"]]
    assert fever("favicons").get_json()["favicons"] == []
    assert fever("links").get_json()["links"] == []


def test_items_page_by_since_id_max_id_and_with_ids(fever):
    answer = fever("items").get_json()
    assert answer["total_items"] == 12 and len(answer["items"]) == 12
    item = answer["items"][0]
    assert set(item) == {
        "id", "feed_id", "title", "author", "html", "url", "is_saved", "is_read",
        "created_on_time",
    }  # fmt: skip
    assert item["is_read"] in (0, 1) and isinstance(item["created_on_time"], int)
    every = sorted(i["id"] for i in answer["items"])
    newest_first = [i["id"] for i in fever("items&max_id=0").get_json()["items"]]
    assert newest_first == sorted(every, reverse=True)
    since = [i["id"] for i in fever(f"items&since_id={every[2]}").get_json()["items"]]
    assert since == every[3:]  # oldest first, after since_id
    before = [i["id"] for i in fever(f"items&max_id={every[2]}").get_json()["items"]]
    assert before == [every[1], every[0]]
    chosen = fever(f"items&with_ids={every[0]},{every[4]},x").get_json()["items"]
    assert sorted(i["id"] for i in chosen) == [every[0], every[4]]


def test_unread_and_saved_ids_are_strings_and_marks_set_them(fever):
    unread = fever("unread_item_ids").get_json()["unread_item_ids"]
    assert isinstance(unread, str) and len(unread.split(",")) == 12
    first = int(unread.split(",")[0])
    fever(mark="item", **{"as": "read"}, id=str(first))
    assert str(first) not in fever("unread_item_ids").get_json()["unread_item_ids"].split(",")
    fever(mark="item", **{"as": "unread"}, id=str(first))
    assert str(first) in fever("unread_item_ids").get_json()["unread_item_ids"].split(",")
    assert fever("saved_item_ids").get_json()["saved_item_ids"] == ""
    for _ in range(2):  # saved twice is still saved: the description's meaning, not a toggle
        fever(mark="item", **{"as": "saved"}, id=str(first))
    assert fever("saved_item_ids").get_json()["saved_item_ids"] == str(first)
    fever(mark="item", **{"as": "unsaved"}, id=str(first))
    assert fever("saved_item_ids").get_json()["saved_item_ids"] == ""
    # A missing item or a bad id changes nothing and is no error.
    assert fever(mark="item", **{"as": "read"}, id="999999").get_json()["auth"] == 1
    assert fever(mark="item", **{"as": "read"}, id="x").get_json()["auth"] == 1


def test_a_feed_and_a_group_are_marked_read_up_to_before(fever):
    feeds = fever("feeds").get_json()["feeds"]
    local = next(f for f in feeds if f["title"] == "Știri locale")
    nov_22 = 1732233600  # its articles were published on the 20th and the 25th
    fever(mark="feed", **{"as": "read"}, id=str(local["id"]), before=str(nov_22))
    items = {i["title"]: i for i in fever("items").get_json()["items"]}
    assert items["Podul 1"]["is_read"] == 1 and items["Podul 2"]["is_read"] == 0
    groups = {g["title"]: g["id"] for g in fever("groups").get_json()["groups"]}
    fever(mark="group", **{"as": "read"}, id=str(groups["Local"]), before="2000000000")
    items = {i["title"]: i for i in fever("items").get_json()["items"]}
    assert items["Podul 2"]["is_read"] == 1
    assert sum(i["is_read"] for i in items.values()) == 2  # the other group untouched
    fever(mark="group", **{"as": "read"}, id="0")  # group 0: everything
    assert fever("unread_item_ids").get_json()["unread_item_ids"] == ""


def test_a_mark_through_fever_is_seen_in_the_page(fever, library):  # noqa: F811
    fever(mark="item", **{"as": "saved"}, id="1")
    page_client = create_app(
        {"DATABASE": str(library["path"]), "TESTING": True, "LOGIN_REQUIRED": False}
    ).test_client()
    page = BeautifulSoup(page_client.get("/articles/1").get_data(as_text=True), "html.parser")
    assert page.select_one(".star-form button")["aria-pressed"] == "true"


def test_another_sites_page_and_cookies_get_nothing(fever):
    response = fever.client.post(
        "/fever/?api&items", data={"api_key": fever.key}, headers=CROSS_SITE
    )
    assert response.status_code == 403 and "items" not in response.get_json()
    fever.client.post("/login", data={"password": "correct horse battery", "next": "/"})
    assert fever.client.post("/fever/?api&items").get_json() == {"api_version": 3, "auth": 0}


def test_the_fever_password_command_refuses_the_admin_password(runner, library):  # noqa: F811
    from webreader.cli import cli

    db = str(library["path"])
    same = runner.invoke(cli, ["fever-password", "--db", db], input="correct horse battery\n")
    assert same.exit_code == 1 and "another than the admin password" in same.output
    ok = runner.invoke(cli, ["fever-password", "--db", db, "--user", "me"], input="fever pass 12\n")
    assert ok.exit_code == 0, ok.output
    stored = open_db(library["path"])
    assert auth.fever_key_matches(stored, hashlib.md5(b"me:fever pass 12").hexdigest())
    stored.close()


def test_odd_keys_and_ids_are_answers_not_errors(fever):
    for key in ["é", "\u00e9" * 40, "%00"]:
        response = fever.client.post("/fever/?api", data={"api_key": key})
        assert response.status_code == 200 and response.get_json()["auth"] == 0
    assert fever.client.get("/fever/?api&api_key=%C3%A9").status_code == 200
    items = fever("items&with_ids=1,²,①,3").get_json()["items"]
    assert sorted(i["id"] for i in items) == [1, 3]


def test_since_id_0_pages_from_the_oldest(fever):
    first = [i["id"] for i in fever("items&since_id=0").get_json()["items"]]
    assert first == sorted(first) and first[0] == min(first)


def test_mark_before_spares_what_arrived_after_the_apps_sync(fever, library):  # noqa: F811
    """`before` is the app's last sync: an article that arrived since (whatever its date
    of publication) stays unread."""
    import time

    from conftest import article_row

    synced = int(time.time()) + 60  # after everything the library held
    db = open_db(library["path"])
    db["articles"].insert(
        article_row(500, title="Sosit acum", source=None, published="2020-01-01",
                    imported_at="2099-01-01T00:00:00+00:00")
    )  # fmt: skip
    db.conn.commit()
    db.close()
    fever(mark="group", **{"as": "read"}, id="0", before=str(synced))
    unread = fever("items").get_json()["items"]
    assert [i["title"] for i in unread if not i["is_read"]] == ["Sosit acum"]


def test_wrong_keys_are_password_guesses(fever):
    fever.client.environ_base["REMOTE_ADDR"] = "192.0.2.79"
    answers = [
        fever.client.post("/fever/?api", data={"api_key": f"{n:032x}"}).status_code
        for n in range(6)
    ]
    assert answers[:5] == [200] * 5 and answers[5] == 429
    assert fever.client.post("/fever/?api", data={"api_key": fever.key}).get_json()["auth"] == 1


def test_the_key_in_a_query_string_stays_out_of_the_access_log(fever, caplog):
    import logging

    with caplog.at_level(logging.INFO, logger="webreader.access"):
        fever.client.get(f"/fever/?api&items&api_key={fever.key}")
    logged = " ".join(record.getMessage() for record in caplog.records)
    assert fever.key not in logged
