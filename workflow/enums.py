"""The vocabulary of the admission workflow. Values are stored as strings in the database."""

from __future__ import annotations

from enum import StrEnum


class Program(StrEnum):
    """The guide's 业务入口: every batch belongs to one business line."""

    RESIDENCY = "residency"  # 住院医师规范化培训
    ASSISTANT_GP = "assistant_gp"  # 助理全科医师规范化培训


class Role(StrEnum):
    TRAINEE = "trainee"
    BASE = "base"
    CITY = "city"
    PROVINCE = "province"


STAFF_ROLES = frozenset({Role.BASE, Role.CITY, Role.PROVINCE})


class IdType(StrEnum):
    RESIDENT_ID = "resident_id"  # 居民身份证
    PASSPORT = "passport"  # 护照
    HK_MACAO_PERMIT = "hk_macao_permit"  # 港澳居民来往内地通行证
    TAIWAN_PERMIT = "taiwan_permit"  # 台湾居民来往大陆通行证
    RESIDENCE_PERMIT = "residence_permit"  # 港澳台居民居住证
    FOREIGNER_PR = "foreigner_pr"  # 外国人永久居留身份证


class PersonnelType(StrEnum):
    SOCIAL = "social"  # 面向社会招收住院医师
    OWN_UNIT = "own_unit"  # 本单位住院医师
    ENTRUSTED = "entrusted"  # 外单位委托培养住院医师
    MASTERS = "masters"  # 全日制硕士专业学位研究生（并轨专硕）
    DELEGATED = "delegated"  # 委派人员
    AID = "aid"  # 帮扶人员


# Types that must name exactly one current work unit, and types that must have none.
NEEDS_CURRENT_UNIT = frozenset({PersonnelType.OWN_UNIT, PersonnelType.ENTRUSTED})
NO_WORK_UNIT = frozenset({PersonnelType.SOCIAL, PersonnelType.MASTERS})


class EducationLevel(StrEnum):
    JUNIOR_COLLEGE = "junior_college"  # 大专
    BACHELOR = "bachelor"  # 本科
    MASTER = "master"  # 硕士
    DOCTOR = "doctor"  # 博士


class Gender(StrEnum):
    MALE = "male"
    FEMALE = "female"


class BaseKind(StrEnum):
    NATIONAL = "national"  # 国家住培基地
    LOCAL = "local"  # 地方住培基地 (a site of a national base)


class Supervisor(StrEnum):
    """Who confirms a base's results (上级主管卫健委)."""

    CITY = "city"
    PROVINCE = "province"


class ApplicationStatus(StrEnum):
    DRAFT = "draft"  # 未提交
    SUBMITTED = "submitted"  # 已提交, waiting for the base's pre-audit
    PRE_ADMITTED = "pre_admitted"  # 预录取
    NOT_ADMITTED = "not_admitted"  # 不录取
    ADMITTED = "admitted"  # 基地录取, result not sent yet
    SENT = "sent"  # 已发送, inside the lock period: the base may still cancel
    ACCEPTABLE = "acceptable"  # lock period over: final, the trainee may accept
    ACCEPTED = "accepted"  # 已接受
    DECLINED = "declined"  # 已拒绝
    EXPIRED = "expired"  # confirmation period passed without an answer
    CONFIRMED = "confirmed"  # 录取结果确认 by the supervising commission


# Statuses that hold a trainee's one admission of a cohort year.
HOLDS_ADMISSION = frozenset({ApplicationStatus.ACCEPTED, ApplicationStatus.CONFIRMED})


class CheckIn(StrEnum):
    REPORTED = "reported"  # 已报到
    NOT_REPORTED = "not_reported"  # 未报到


class PlanStatus(StrEnum):
    DECLARED = "declared"  # 申报, waiting for the province
    APPROVED = "approved"
    ADJUSTED = "adjusted"  # approved with another number and a reason


class OfferStatus(StrEnum):
    OFFERED = "offered"
    ACCEPTED = "accepted"
    REFUSED = "refused"
    EXPIRED = "expired"


class TrainingStatus(StrEnum):
    IN_TRAINING = "in_training"
    PAUSED = "paused"  # 暂停
    EXTENDED = "extended"  # 延期
    WITHDRAWN = "withdrawn"  # 退培


class ReductionStatus(StrEnum):
    DRAFT = "draft"  # trainee gathering the form and evidence
    AT_BASE = "at_base"
    AT_CITY = "at_city"
    AT_PROVINCE = "at_province"
    APPLIED = "applied"
    SENT_BACK = "sent_back"


class DocumentKind(StrEnum):
    REDUCTION_FORM = "reduction_form"  # 减免申请表
    EVIDENCE = "evidence"  # 减免材料
    HOSPITAL_PROOF = "hospital_proof"  # 医院证明


class ChangeKind(StrEnum):
    """学员信息变更申请 fields and 学员培训状态变更申请 kinds."""

    PERSONNEL_TYPE = "personnel_type"
    SENDING_UNIT = "sending_unit"
    SPECIALTY = "specialty"
    BASE = "base"
    COLLABORATING_UNIT = "collaborating_unit"
    WITHDRAW = "withdraw"
    PAUSE = "pause"
    EXTEND = "extend"


INFO_CHANGES = frozenset(
    {
        ChangeKind.PERSONNEL_TYPE,
        ChangeKind.SENDING_UNIT,
        ChangeKind.SPECIALTY,
        ChangeKind.BASE,
        ChangeKind.COLLABORATING_UNIT,
    }
)
STATUS_CHANGES = frozenset({ChangeKind.WITHDRAW, ChangeKind.PAUSE, ChangeKind.EXTEND})


class ChangeStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"
