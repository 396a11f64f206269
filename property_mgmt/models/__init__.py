"""Property-company feedback, fees and self-managed funds (物业 / 自管委), issue 6.

contracts: who provides the service to an estate and on what terms; surveys: one answer
per household; scorecards and the black list; fees: bills and payments; funds: the
self-managed committee's money, "one keeps the money, one keeps the books".
"""

from property_mgmt.models.contracts import ProviderProfile, ServiceContract
from property_mgmt.models.fees import FeeBill, FeePayment
from property_mgmt.models.funds import ExpenseAttachment, ExpenseRequest, Fund, FundEntry
from property_mgmt.models.scorecards import BlacklistEntry, BlacklistRule, Scorecard
from property_mgmt.models.surveys import Survey, SurveyResponse

__all__ = [
    "BlacklistEntry",
    "BlacklistRule",
    "ExpenseAttachment",
    "ExpenseRequest",
    "FeeBill",
    "FeePayment",
    "Fund",
    "FundEntry",
    "ProviderProfile",
    "Scorecard",
    "ServiceContract",
    "Survey",
    "SurveyResponse",
]
