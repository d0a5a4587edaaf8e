import httpx

from app.referentials import data, enums


async def test_departements_are_all_101_with_their_region(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/referentials/departements")
    assert response.status_code == 200
    items = response.json()["items"]
    assert len(items) == 101
    by_code = {item["code"]: item for item in items}
    assert by_code["44"] == {
        "code": "44",
        "label": "Loire-Atlantique",
        "region": "52",
        "region_label": "Pays de la Loire",
    }
    assert by_code["2A"]["region"] == by_code["2B"]["region"] == "94"
    assert by_code["976"]["region"] == "06"
    assert "20" not in by_code


async def test_regions_list_their_departements(client: httpx.AsyncClient) -> None:
    items = (await client.get("/v1/referentials/regions")).json()["items"]
    assert len(items) == 18
    counted = sum(len(item["departements"]) for item in items)
    assert counted == 101
    idf = next(item for item in items if item["code"] == "11")
    assert idf["label"] == "Île-de-France"
    assert sorted(idf["departements"]) == ["75", "77", "78", "91", "92", "93", "94", "95"]


async def test_value_lists_carry_french_labels_and_cache(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/referentials/contract-types")
    codes = [item["code"] for item in response.json()["items"]]
    assert codes == [c.value for c in enums.ContractType]
    labels = {item["code"]: item["label"] for item in response.json()["items"]}
    assert labels["service_civique"] == "Service civique"
    assert "max-age=86400" in response.headers["cache-control"]
    again = await client.get(
        "/v1/referentials/contract-types", headers={"If-None-Match": response.headers["etag"]}
    )
    assert again.status_code == 304
    kinds = (await client.get("/v1/referentials/organisation-kinds")).json()["items"]
    assert {item["code"]: item["label"] for item in kinds}["administration_etat"] == (
        "Administration de l'État"
    )


def test_enums_agree_with_labelled_data() -> None:
    pairs = [
        (enums.ContractType, data.CONTRACT_TYPES),
        (enums.OrganisationKind, data.ORGANISATION_KINDS),
        (enums.EducationLevel, data.EDUCATION_LEVELS),
        (enums.RemoteMode, data.REMOTE_MODES),
        (enums.WorkingTime, data.WORKING_TIMES),
        (enums.SalaryPeriod, data.SALARY_PERIODS),
        (enums.SalaryBasis, data.SALARY_BASES),
        (enums.Versant, data.VERSANTS),
        (enums.Categorie, data.CATEGORIES),
        (enums.ContractReason, data.CONTRACT_REASONS),
        (enums.StartPrecision, data.START_PRECISIONS),
        (enums.Domain, data.DOMAINS),
        (enums.LanguageLevel, data.LANGUAGE_LEVELS),
        (enums.ApplyVia, data.APPLY_VIA),
        (enums.OfferStatus, data.OFFER_STATUSES),
    ]
    for enum, entries in pairs:
        assert [member.value for member in enum] == list(data.codes(entries)), enum
