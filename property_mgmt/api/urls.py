"""/api/v1/property/: contracts, bills and payments, surveys, scorecards, the black list,
self-managed funds."""

from __future__ import annotations

from django.urls import URLPattern, path

from property_mgmt.api import fees, funds, surveys

app_name = "property-api"

BLACKLIST = "blacklist/<int:pk>/"
EXPENSE = "expenses/<int:pk>/"
FUND = "funds/<int:estate_id>/"

urlpatterns: list[URLPattern] = [
    # contracts and fees
    path("contracts/", fees.ContractListCreateApi.as_view(), name="contracts"),
    path("bills/", fees.EstateBillsApi.as_view(), name="bills"),
    path("bills/mine/", fees.MyBillsApi.as_view(), name="my-bills"),
    path("bills/<int:pk>/payments/", fees.PaymentRecordApi.as_view(), name="pay"),
    path("estates/<int:pk>/collection/", fees.CollectionRateApi.as_view(), name="collection"),
    path("estates/<int:pk>/arrears/", fees.ArrearsApi.as_view(), name="arrears"),
    # surveys, scorecards, the black list
    path("surveys/open/", surveys.OpenSurveysApi.as_view(), name="surveys-open"),
    path("surveys/<int:pk>/answer/", surveys.SurveyAnswerApi.as_view(), name="survey-answer"),
    path("surveys/<int:pk>/results/", surveys.SurveyResultsApi.as_view(), name="survey-results"),
    path("scorecards/", surveys.ScorecardListPublishApi.as_view(), name="scorecards"),
    path("scorecards/compute/", surveys.ScorecardComputeApi.as_view(), name="scorecards-compute"),
    path("blacklist/", surveys.BlacklistBoardApi.as_view(), name="blacklist"),
    path(BLACKLIST + "confirm/", surveys.BlacklistConfirmApi.as_view(), name="blacklist-confirm"),
    path(BLACKLIST + "dismiss/", surveys.BlacklistDismissApi.as_view(), name="blacklist-dismiss"),
    path(BLACKLIST + "remove/", surveys.BlacklistRemoveApi.as_view(), name="blacklist-remove"),
    path(BLACKLIST + "respond/", surveys.BlacklistRespondApi.as_view(), name="blacklist-respond"),
    # self-managed funds
    path(FUND, funds.FundApi.as_view(), name="fund"),
    path(FUND + "income/", funds.IncomeApi.as_view(), name="fund-income"),
    path(FUND + "expenses/", funds.ExpenseCreateApi.as_view(), name="fund-expenses"),
    path(FUND + "ledger/<int:year>/", funds.PublicLedgerApi.as_view(), name="fund-ledger"),
    path(EXPENSE + "decide/", funds.ExpenseDecideApi.as_view(), name="expense-decide"),
    path(EXPENSE + "pay/", funds.ExpensePayApi.as_view(), name="expense-pay"),
    path(EXPENSE + "book/", funds.ExpenseBookApi.as_view(), name="expense-book"),
    path("entries/<int:pk>/correct/", funds.EntryCorrectApi.as_view(), name="entry-correct"),
]
