"""OB 3.0 REST API shapes: the ``Profile`` a ``PUT /profile`` sends, and the documented shapes of
responses the routes build themselves (credential lists are spliced from stored text, so they
are never re-serialised through a model)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from service.core.validation import Email, HttpUrlText
from service.issuers.schemas import Description, IssuerName

ProfileTypes = Annotated[list[str], Field(min_length=1, json_schema_extra={"contains": {"const": "Profile"}})]


class ImageIn(BaseModel):
    """An OB 3.0 ``Image``: its URL in ``id`` (the caption is not kept)."""

    model_config = ConfigDict(extra="forbid")

    id: HttpUrlText
    type: Literal["Image"] = "Image"
    caption: str | None = Field(default=None, max_length=4000)


class ProfileIn(BaseModel):
    """An issuer's OB 3.0 ``Profile``, replacing what SkillCred keeps of it: ``name`` and ``url``
    are required; ``email``, ``description`` and ``image`` left out are cleared. ``id``, when sent,
    must be the issuer's DID. Profile properties SkillCred does not keep are refused (400)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    context: Any = Field(default=None, alias="@context")
    id: str | None = Field(default=None, max_length=512)
    type: ProfileTypes | Literal["Profile"] = Field(default=["Profile"], description="Must include `Profile`")
    name: IssuerName
    url: HttpUrlText
    email: Email | None = None
    description: Description | None = None
    image: HttpUrlText | ImageIn | None = None

    @field_validator("type")
    @classmethod
    def _is_profile(cls, value: list[str] | str) -> list[str] | str:  # what `contains` says, for Python
        if "Profile" not in ([value] if isinstance(value, str) else value):
            raise ValueError("type must include Profile")
        return value

    def fields(self) -> dict[str, Any]:
        """The issuer fields this Profile sets (every one: a PUT replaces them)."""
        image = self.image.id if isinstance(self.image, ImageIn) else self.image
        return {
            "name": self.name,
            "url": self.url,
            "email": self.email,
            "description": self.description,
            "image": image,
        }


class ImsxCodeMinorField(BaseModel):
    imsx_codeMinorFieldName: str
    imsx_codeMinorFieldValue: str


class ImsxCodeMinor(BaseModel):
    imsx_codeMinorField: list[ImsxCodeMinorField]


class ImsxStatusInfo(BaseModel):
    """Every error of the OB 3.0 API (``Imsx_StatusInfo``): code major ``failure``, severity
    ``error``, a description and the code minor (``unauthorizedrequest``, ``forbidden``,
    ``not_found``, ``invalid_data``, ``invalid_query_parameter``, ``server_busy``...)."""

    model_config = ConfigDict(title="Imsx_StatusInfo")

    imsx_codeMajor: Literal["failure", "processing", "success", "unsupported"]
    imsx_severity: Literal["error", "status", "warning"]
    imsx_description: str | None = None
    imsx_codeMinor: ImsxCodeMinor | None = None


class GetOpenBadgeCredentialsResponse(BaseModel):
    """A page of credentials: JSON-LD ones in ``credential``, VC-JWT ones in ``compactJwsString``,
    each exactly as issued or upserted."""

    credential: list[dict[str, Any]] = Field(description="AchievementCredentials (JSON-LD, embedded proof)")
    compactJwsString: list[str] = Field(description="AchievementCredentials as compact JWS (VC-JWT)")


class ProfileOut(BaseModel):
    """An OB 3.0 ``Profile`` (further Profile properties may appear)."""

    model_config = ConfigDict(extra="allow")

    id: str
    type: list[str]
    name: str | None = None
    url: str | None = None
    email: str | None = None
    description: str | None = None
    image: dict[str, Any] | None = None
