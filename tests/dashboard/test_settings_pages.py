from tests.web_client import Browser

def test_smoke(owner: Browser, tenant) -> None:
    for url in ("/dashboard/settings", "/dashboard/settings/company", "/dashboard/settings/company/delete",
                "/dashboard/settings/api-keys", "/dashboard/settings/audit"):
        page = owner.get(url)
        assert page.status == 200, (url, page.text[:3000])
    created = owner.post("/dashboard/settings/api-keys", {"name": "ERP", "scopes": ["products:read", "orders:read"]})
    assert created.status == 200, created.text[:2000]
    print(created.text)
    page = owner.get("/dashboard/settings/audit")
    print(page.text)
