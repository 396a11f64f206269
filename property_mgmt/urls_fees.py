"""Pages of property management: fees (included by property_mgmt/urls.py)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from property_mgmt.views import fees

urlpatterns: list[URLPattern | URLResolver] = [
    # The resident's phone page.
    path("bills/", fees.my_bills, name="fees-my-bills"),
    # The office's and property staff's fee pages.
    path("fees/", fees.fees_index, name="fees-index"),
    path("fees/estates/<int:pk>/", fees.fees_estate, name="fees-estate"),
    path("fees/estates/<int:pk>/generate/", fees.fees_generate, name="fees-generate"),
    path("fees/estates/<int:pk>/release/", fees.fees_release, name="fees-release"),
    path("fees/estates/<int:pk>/bills/", fees.fees_bills, name="fees-bills"),
    path("fees/estates/<int:pk>/arrears/", fees.fees_arrears, name="fees-arrears"),
    path(
        "fees/estates/<int:pk>/arrears.xlsx",
        fees.fees_arrears_export,
        name="fees-arrears-export",
    ),
    path("fees/estates/<int:pk>/import/", fees.fees_import, name="fees-import"),
    path("fees/bills/<int:pk>/pay/", fees.fees_payment, name="fees-payment"),
    # The office's contracts.
    path("contracts/", fees.contracts, name="fees-contracts"),
    path("contracts/new/", fees.contract_new, name="fees-contract-new"),
]
