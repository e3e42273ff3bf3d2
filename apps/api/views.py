"""REST API over studies, cases, assignments, reads and exports.

Every queryset is narrowed to the objects the user may reach, so an object
outside it returns 404 exactly like a missing one. Role checks return 403.
"""
from __future__ import annotations

import logging
from pathlib import Path

from django.db import transaction
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponse
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.roles import Role
from apps.api import serializers as s
from apps.api.permissions import HasAnyRole, is_coordinator
from apps.audit.log import record
from apps.cases.models import Case, GroundTruth
from apps.studies import design, exports, services
from apps.studies.models import Arm, Assignment, Read, ReaderStudy
from apps.studies.truth_csv import parse_truth_csv, store_truths

logger = logging.getLogger(__name__)


class RuleConflict(APIException):
    """A request the study's current state or rules do not allow."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "The study's rules do not allow this request now."
    default_code = "conflict"


def _rejected(error: services.ReadRejected | design.DesignRejected) -> APIException:
    field = getattr(error, "field", None)
    if field:
        return ValidationError({field: [str(error)]})
    return RuleConflict(str(error))


def _csv(content: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class StudyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                   mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """Studies: coordinators design their own; readers see the studies they are assigned to."""

    permission_classes = [HasAnyRole]
    allowed_roles = (Role.COORDINATOR, Role.READER)
    queryset = ReaderStudy.objects.none()  # for the schema; get_queryset narrows per user

    def get_queryset(self):
        user = self.request.user
        coordinated = Q(coordinators=user)
        assigned = Q(assignments__reader=user) & ~Q(status=ReaderStudy.Status.DRAFT)
        if self.action in {"list", "retrieve"}:
            query = coordinated | assigned
        else:
            query = coordinated
        return ReaderStudy.objects.filter(query).distinct().order_by("pk").prefetch_related("arms")

    def get_serializer_class(self):
        return s.StudySerializer

    def _present(self, study: ReaderStudy) -> dict:
        # A user who coordinates some studies and reads in others is shown the design of the former only.
        if study.coordinators.filter(pk=self.request.user.pk).exists():
            return s.StudySerializer(study, context=self.get_serializer_context()).data
        return s.ReaderStudySerializer(study, context=self.get_serializer_context()).data

    @extend_schema(responses=s.StudySerializer(many=True))
    def list(self, request):
        return Response([self._present(study) for study in self.get_queryset()])

    @extend_schema(responses=s.StudySerializer)
    def retrieve(self, request, pk=None):
        return Response(self._present(self.get_object()))

    def check_coordinator(self) -> None:
        if not is_coordinator(self.request.user):
            from rest_framework.exceptions import PermissionDenied

            raise PermissionDenied("Only coordinators design studies.")

    def perform_create(self, serializer):
        self.check_coordinator()
        with transaction.atomic():
            study = serializer.save(status=ReaderStudy.Status.DRAFT,
                                    seed=serializer.validated_data.get("seed", design.new_seed()))
            study.coordinators.add(self.request.user)

    def perform_update(self, serializer):
        study = serializer.instance
        rule_fields = set(serializer.validated_data) - {"title", "instructions"}
        if rule_fields and study.status != ReaderStudy.Status.DRAFT:
            raise RuleConflict(
                f"The study is {study.status}, so {', '.join(sorted(rule_fields))} can no longer change; "
                "copy it as a template to change its design."
            )
        serializer.save()

    @extend_schema(request=s.StatusSerializer, responses=s.StudySerializer)
    @action(detail=True, methods=["post"])
    def status(self, request, pk=None):
        study = self.get_object()
        body = s.StatusSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            design.change_status(study, body.validated_data["status"])
        except design.DesignRejected as error:
            raise _rejected(error) from error
        return Response(s.StudySerializer(study, context=self.get_serializer_context()).data)

    @extend_schema(request=s.CopySerializer, responses={201: s.StudySerializer})
    @action(detail=True, methods=["post"])
    def copy(self, request, pk=None):
        study = self.get_object()
        body = s.CopySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        copy = design.copy_study(study, by=request.user, include_readers=body.validated_data["include_readers"])
        return Response(s.StudySerializer(copy, context=self.get_serializer_context()).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(request=s.ArmSerializer, responses={201: s.ArmSerializer})
    @action(detail=True, methods=["post"])
    def arms(self, request, pk=None):
        study = self.get_object()
        try:
            design.require_draft(study, "arms")
        except design.DesignRejected as error:
            raise _rejected(error) from error
        body = s.ArmSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        name = body.validated_data["name"]
        if Arm.objects.filter(study=study, name=name).exists():
            message = f"The study already has an arm named '{name}'; choose another name."
            raise ValidationError({"name": [message]})
        arm = body.save(study=study)
        return Response(s.ArmSerializer(arm).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.AssignReaderSerializer, responses={201: s.AssignmentSerializer(many=True)})
    @action(detail=True, methods=["post"])
    def readers(self, request, pk=None):
        study = self.get_object()
        body = s.AssignReaderSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        arm_id = body.validated_data.get("arm")
        arms = list(study.arms.filter(pk=arm_id)) if arm_id is not None else list(study.arms.all())
        if not arms:
            raise ValidationError({"arm": [f"Arm {arm_id} is not an arm of this study." if arm_id is not None
                                           else "The study has no arms; add an arm first."]})
        try:
            with transaction.atomic():
                assignments = [design.assign_reader(study, arm, body.validated_data["reader"])[0] for arm in arms]
        except design.DesignRejected as error:
            raise _rejected(error) from error
        return Response(s.AssignmentSerializer(assignments, many=True).data, status=status.HTTP_201_CREATED)

    @extend_schema(methods=["GET"], responses=s.TruthSerializer(many=True))
    @extend_schema(methods=["POST"], request={"multipart/form-data": s.TruthUploadSerializer},
                   responses={200: s.TruthSerializer(many=True)})
    @action(detail=True, methods=["get", "post"], parser_classes=[MultiPartParser, FormParser])
    def truth(self, request, pk=None):
        study = self.get_object()
        case_ids = list(study.cases.values_list("pk", flat=True)) + list(study.training_cases.values_list("pk", flat=True))
        if request.method == "POST":
            body = s.TruthUploadSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            parsed = parse_truth_csv(body.validated_data["file"].read(), study=study)
            if parsed.errors:
                raise ValidationError({"file": parsed.errors + ["Nothing was stored; fix the file and upload it again."]})
            store_truths(parsed.truths, source=f"CSV upload by {request.user.get_username()}")
        truths = GroundTruth.objects.filter(case_id__in=case_ids).select_related("case").order_by("case__public_id")
        return Response(s.TruthSerializer(truths, many=True).data)

    @extend_schema(responses={(200, "text/csv"): OpenApiResponse(description="Every read version, CSV.")})
    @action(detail=True, methods=["get"], url_path="exports/reads")
    def export_reads(self, request, pk=None):
        study = self.get_object()
        record("export", study, changes={"export": "reads.csv"}, request=request._request)
        return _csv(exports.reads_csv(study), f"study-{study.pk}-reads.csv")

    @extend_schema(responses={(200, "text/csv"): OpenApiResponse(description="The study's audit log, CSV.")})
    @action(detail=True, methods=["get"], url_path="exports/audit")
    def export_audit(self, request, pk=None):
        study = self.get_object()
        record("export", study, changes={"export": "audit.csv"}, request=request._request)
        return _csv(exports.audit_csv(study), f"study-{study.pk}-audit.csv")

    def get_object(self):
        study = super().get_object()
        if self.action not in {"list", "retrieve"}:
            self.check_coordinator()
        return study


class CaseViewSet(viewsets.ReadOnlyModelViewSet):
    """The case library, for coordinators and reviewers; readers reach cases through assignments."""

    permission_classes = [HasAnyRole]
    allowed_roles = (Role.COORDINATOR, Role.REVIEWER)
    serializer_class = s.CaseSerializer
    lookup_field = "public_id"
    queryset = Case.objects.order_by("public_id")


class AssignmentViewSet(viewsets.ReadOnlyModelViewSet):
    """A reader's own assignments, or the assignments of studies the user coordinates."""

    permission_classes = [HasAnyRole]
    allowed_roles = (Role.COORDINATOR, Role.READER)
    serializer_class = s.AssignmentSerializer
    queryset = Assignment.objects.none()  # for the schema; get_queryset narrows per user

    def get_queryset(self):
        user = self.request.user
        own = Q(reader=user) & ~Q(study__status=ReaderStudy.Status.DRAFT)
        return (
            Assignment.objects.filter(own | Q(study__coordinators=user))
            .distinct().select_related("study", "arm", "reader").order_by("pk")
        )

    def _own(self) -> Assignment:
        assignment = self.get_object()
        if assignment.reader_id != self.request.user.pk:
            # Coordinators see progress, never the reader's case payloads.
            raise Http404("No such assignment of yours.")
        return assignment

    @extend_schema(responses=s.ReaderCaseSerializer(many=True))
    @action(detail=True, methods=["get"])
    def cases(self, request, pk=None):
        assignment = self._own()
        public_ids = dict(Case.objects.filter(pk__in=services.reading_order(assignment)).values_list("pk", "public_id"))
        items = []
        for position, case_id in enumerate(services.reading_order(assignment), start=1):
            case = Case(pk=case_id, public_id=public_ids[case_id])
            items.append(s.ReaderCaseSerializer.build(assignment, case, request, position=position, detail=False))
        return Response(s.ReaderCaseSerializer(items, many=True).data)

    @extend_schema(responses=s.ReaderCaseSerializer,
                   parameters=[OpenApiParameter("public_id", str, OpenApiParameter.PATH)])
    @action(detail=True, methods=["get"], url_path=r"cases/(?P<public_id>[^/.]+)")
    def case(self, request, pk=None, public_id=None):
        assignment = self._own()
        case = Case.objects.filter(public_id=public_id).first()
        order = services.reading_order(assignment)
        if case is None or case.pk not in order:
            raise Http404("No such case in this assignment.")
        try:
            services.check_can_read(assignment)
            if services.pending_stage(assignment, case) is not None:
                services.check_can_open(assignment, case)
                services.open_case(assignment, case)
            elif assignment.study.navigation == ReaderStudy.Navigation.FORWARD:
                raise services.ReadRejected(f"Case {case.public_id} is complete; this study is read forward only.")
        except services.ReadRejected as error:
            raise _rejected(error) from error
        data = s.ReaderCaseSerializer.build(assignment, case, request, position=order.index(case.pk) + 1, detail=True)
        return Response(s.ReaderCaseSerializer(data).data)

    @extend_schema(responses=s.ReaderCaseSerializer)
    @action(detail=True, methods=["get"], url_path="next")
    def next_case(self, request, pk=None):
        assignment = self._own()
        try:
            services.check_can_read(assignment)
        except services.ReadRejected as error:
            raise _rejected(error) from error
        case = services.next_case(assignment)
        if case is None:
            return Response({"detail": "Every case of this assignment is read."}, status=status.HTTP_404_NOT_FOUND)
        position = services.reading_order(assignment).index(case.pk) + 1
        data = s.ReaderCaseSerializer.build(assignment, case, request, position=position, detail=False)
        return Response(s.ReaderCaseSerializer(data).data)


class ReadViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Reads: a reader submits and corrects their own; coordinators list the reads of their studies."""

    permission_classes = [HasAnyRole]
    allowed_roles = (Role.COORDINATOR, Role.READER)
    serializer_class = s.ReadSerializer
    parser_classes = [JSONParser, FormParser, MultiPartParser]
    queryset = Read.objects.none()  # for the schema; get_queryset narrows per user

    def get_queryset(self):
        user = self.request.user
        return (
            Read.objects.filter(Q(assignment__reader=user) | Q(assignment__study__coordinators=user))
            .distinct().select_related("assignment__reader", "case").order_by("pk")
        )

    def _own_assignment(self, assignment_id: int) -> Assignment:
        assignment = (
            Assignment.objects.select_related("study", "arm")
            .filter(pk=assignment_id, reader=self.request.user)
            .exclude(study__status=ReaderStudy.Status.DRAFT)
            .first()
        )
        if assignment is None:
            raise ValidationError({"assignment": [f"Assignment {assignment_id} is not one of yours."]})
        return assignment

    @extend_schema(request=s.ReadCreateSerializer, responses={201: s.ReadSerializer, 200: s.ReadSerializer})
    def create(self, request):
        body = s.ReadCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        assignment = self._own_assignment(body.validated_data["assignment"])
        case = Case.objects.filter(public_id=body.validated_data["case"]).first()
        if case is None or case.pk not in services.reading_order(assignment):
            message = f"Case {body.validated_data['case']!r} is not part of assignment {assignment.pk}."
            raise ValidationError({"case": [message]})
        try:
            read, created = services.submit_read(
                assignment=assignment, case=case, answer=body.answer(),
                active_seconds=body.validated_data["active_seconds"], stage=body.validated_data["stage"],
            )
        except services.ReadAlreadyStored as error:
            correct_url = reverse("api:read-correct", args=[error.read.pk])
            raise RuleConflict(
                f"A read of case {case.public_id} ({error.read.stage}) is already stored as "
                f"{error.read.answer_display}; the new answer was not stored. To change it, POST the answer "
                f"with a reason to {correct_url}, which only studies with correctable reads accept."
            ) from error
        except services.ReadRejected as error:
            raise _rejected(error) from error
        if created:
            logger.info("read stored via API: reader=%s case=%s read=%s", request.user.pk, case.public_id, read.pk)
        data = s.ReadSerializer(read).data
        return Response(data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(request=s.CorrectionSerializer, responses={201: s.ReadSerializer})
    @action(detail=True, methods=["post"])
    def correct(self, request, pk=None):
        read = self.get_object()
        if read.assignment.reader_id != request.user.pk:
            raise Http404("No such read of yours.")
        body = s.CorrectionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            new = services.correct_read(read=read, answer=body.answer(), reason=body.validated_data["reason"],
                                        active_seconds=body.validated_data["active_seconds"])
        except services.ReadRejected as error:
            raise _rejected(error) from error
        return Response(s.ReadSerializer(new).data, status=status.HTTP_201_CREATED)


# Swagger UI files from the drf-spectacular-sidecar package, served by this app so the
# documentation page needs no CDN and no extra installed app.
_SWAGGER_FILES = {"swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "favicon-32x32.png"}


class SwaggerAssetView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    schema = None

    def get(self, request, filename: str):
        if filename not in _SWAGGER_FILES:
            raise Http404(f"No documentation asset named {filename!r}.")
        import drf_spectacular_sidecar

        path = Path(drf_spectacular_sidecar.__file__).parent / "static" / "drf_spectacular_sidecar" / "swagger-ui-dist" / filename
        return FileResponse(path.open("rb"))
