"""The algorithms ``camplan:plan``, ``camplan:compare`` and ``camplan:validate``.

Each one writes its layers to files, runs the camplan command line and returns
what it wrote; a failure ends the algorithm with the command's own one-line
message in the Processing log.
"""

import os

from qgis.core import (
    QgsProcessing,
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingOutputFile,
    QgsProcessingOutputHtml,
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingOutputVectorLayer,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsProcessingParameterFile,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
)

from . import command
from .layers import layer_file, layer_files, original_file, source_file
from .settings import configured_executable

POINTS = [QgsProcessing.TypeVectorPoint]
POLYGONS = [QgsProcessing.TypeVectorPolygon]
PLAN_LAYERS = (
    ("SITES_LAYER", "sites", "camplan: camera sets"),
    ("FOOTPRINTS_LAYER", "footprints", "camplan: coverage footprints"),
    ("DISTRICTS_LAYER", "districts", "camplan: districts"),
)
"""Outputs of ``camplan:plan``: (output name, plan.gpkg layer, name in the project)."""


def _executable():
    """The camplan program to run; not found is the Processing error."""
    try:
        return command.find_executable(configured_executable())
    except command.CommandError as exc:
        raise QgsProcessingException(str(exc)) from None


def _run(args, feedback):
    """Run camplan with ``args``; its failure becomes the Processing error, one line."""
    executable = _executable()
    feedback.pushCommandInfo(" ".join([executable, *args]))
    try:
        return command.run(executable, args, echo=feedback.pushConsoleInfo)
    except command.CommandError as exc:
        raise QgsProcessingException(str(exc)) from None


class _CamplanAlgorithm(QgsProcessingAlgorithm):
    """What the three algorithms share: group, flags, a fresh instance per run."""

    def group(self):
        return ""

    def groupId(self):
        return ""

    def createInstance(self):
        return type(self)()

    def flags(self):
        # camplan runs in its own process: nothing here touches the project's layers
        # from another thread, but writing layers to files must happen in order.
        return super().flags() | QgsProcessingAlgorithm.FlagNoThreading

    def displayName(self):
        return self.name().capitalize()


class PlanAlgorithm(_CamplanAlgorithm):
    """``camplan:plan``: choose camera sets for demand layers and candidate sites."""

    def name(self):
        return "plan"

    def displayName(self):
        return "Plan camera sets"

    def shortHelpString(self):
        return (
            "Chooses where to put camera sets so that they cover as much demand weight as "
            "possible, runs the camplan command line and loads the styled result layers "
            "(camera sets by phase, coverage footprints, districts by covered share). "
            "Layers may be in any CRS. The output folder also holds map.html and the "
            "report."
        )

    def initAlgorithm(self, config=None):
        self._add_inputs()
        self._add_optional_inputs()
        self.addParameter(QgsProcessingParameterFolderDestination("OUTPUT_FOLDER", "Output folder"))
        for output, _layer, title in PLAN_LAYERS:
            self.addOutput(QgsProcessingOutputVectorLayer(output, title))
        self.addOutput(QgsProcessingOutputHtml("REPORT", "Report"))
        self.addOutput(QgsProcessingOutputFile("MAP", "Web map (map.html)"))

    def _add_inputs(self):
        self.addParameter(
            QgsProcessingParameterFeatureSource(
                "DEMAND", "Demand (points or polygons)", [QgsProcessing.TypeVectorAnyGeometry]
            )
        )
        self.addParameter(
            QgsProcessingParameterField(
                "WEIGHT_FIELD",
                "Demand weight field",
                "weight",
                "DEMAND",
                QgsProcessingParameterField.Numeric,
                optional=True,
            )
        )
        self.addParameter(
            QgsProcessingParameterFeatureSource("SITES", "Candidate mounting sites", POINTS)
        )
        self.addParameter(
            QgsProcessingParameterField(
                "SITE_ID_FIELD",
                "Site id field (kept in the output)",
                None,
                "SITES",
                QgsProcessingParameterField.Any,
                optional=True,
            )
        )
        self.addParameter(
            QgsProcessingParameterNumber(
                "RADIUS",
                "Reach of one camera set (metres)",
                QgsProcessingParameterNumber.Double,
                75.0,
                minValue=0.001,
            )
        )
        self.addParameter(
            QgsProcessingParameterNumber(
                "SETS",
                "Number of new camera sets",
                QgsProcessingParameterNumber.Integer,
                12,
                minValue=1,
            )
        )
        self.addParameter(
            QgsProcessingParameterString(
                "PHASES",
                "Phase sizes, e.g. 6,6 (adding up to at most the number of sets)",
                optional=True,
            )
        )

    def _add_optional_inputs(self):
        self.addParameter(
            QgsProcessingParameterMultipleLayers(
                "EXISTING",
                "Existing camera sets (their coverage counts first)",
                QgsProcessing.TypeVectorPoint,
                optional=True,
            )
        )
        self.addParameter(
            QgsProcessingParameterString(
                "OWNER_FIELD", "Owner field of the existing cameras", "owner", optional=True
            )
        )
        self.addParameter(
            QgsProcessingParameterFeatureSource("DISTRICTS", "Districts", POLYGONS, optional=True)
        )
        self.addParameter(
            QgsProcessingParameterField(
                "DISTRICT_NAME_FIELD",
                "District name field",
                None,
                "DISTRICTS",
                QgsProcessingParameterField.Any,
                optional=True,
            )
        )
        self.addParameter(
            QgsProcessingParameterField(
                "POPULATION_FIELD",
                "District population field",
                None,
                "DISTRICTS",
                QgsProcessingParameterField.Numeric,
                optional=True,
            )
        )
        self.addParameter(
            QgsProcessingParameterFeatureSource(
                "EXCLUSIONS", "Privacy exclusion zones", POLYGONS, optional=True
            )
        )

    def _request(self, parameters, context, feedback):
        """The plan's command-line values, layers written to files."""

        def layer(name):
            return source_file(self, parameters, name, context, feedback)

        def text(name):
            return (self.parameterAsString(parameters, name, context) or "").strip()

        return command.PlanRequest(
            demand=layer("DEMAND"),
            sites=layer("SITES"),
            radius_m=self.parameterAsDouble(parameters, "RADIUS", context),
            sets=self.parameterAsInt(parameters, "SETS", context),
            out=self.parameterAsString(parameters, "OUTPUT_FOLDER", context),
            weight=text("WEIGHT_FIELD"),
            site_id=text("SITE_ID_FIELD"),
            phases=text("PHASES"),
            existing=tuple(layer_files(self, parameters, "EXISTING", context, feedback)),
            owner_column=text("OWNER_FIELD"),
            districts=layer("DISTRICTS"),
            district_name=text("DISTRICT_NAME_FIELD"),
            population=text("POPULATION_FIELD"),
            exclusions=layer("EXCLUSIONS"),
        )

    def processAlgorithm(self, parameters, context, feedback):
        req = self._request(parameters, context, feedback)
        _run(command.plan_arguments(req), feedback)
        gpkg = os.path.join(req.out, "plan.gpkg")
        results = {
            "OUTPUT_FOLDER": req.out,
            "REPORT": os.path.join(req.out, "report.html"),
            "MAP": os.path.join(req.out, "map.html"),
        }
        present = set(_gpkg_layer_names(gpkg))
        for output, layer, title in PLAN_LAYERS:
            if layer not in present:
                continue
            uri = f"{gpkg}|layername={layer}"
            results[output] = uri
            context.addLayerToLoadOnCompletion(
                uri, QgsProcessingContext.LayerDetails(title, context.project(), output)
            )
        return results


def _gpkg_layer_names(path):
    """The layer names of a GeoPackage, from its ``gpkg_contents`` table."""
    import sqlite3
    from contextlib import closing

    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as con:
        return [row[0] for row in con.execute("SELECT table_name FROM gpkg_contents")]


class CompareAlgorithm(_CamplanAlgorithm):
    """``camplan:compare``: two or more plan folders (or scenario files) on one page."""

    def name(self):
        return "compare"

    def displayName(self):
        return "Compare plans"

    def shortHelpString(self):
        return (
            "Compares two or more plans (camplan output folders or SCENARIO.toml files) "
            "on one page: coverage curves, sites in common, per-district differences."
        )

    def initAlgorithm(self, config=None):
        folder = QgsProcessingParameterFile.Folder
        self.addParameter(QgsProcessingParameterFile("FIRST", "First plan folder", folder))
        self.addParameter(QgsProcessingParameterFile("SECOND", "Second plan folder", folder))
        self.addParameter(
            QgsProcessingParameterString(
                "MORE", "More plan folders or scenario files, separated by ;", optional=True
            )
        )
        self.addParameter(QgsProcessingParameterFolderDestination("OUTPUT_FOLDER", "Output folder"))
        self.addOutput(QgsProcessingOutputHtml("REPORT", "Comparison (compare.html)"))

    def processAlgorithm(self, parameters, context, feedback):
        plans = [
            self.parameterAsFile(parameters, "FIRST", context),
            self.parameterAsFile(parameters, "SECOND", context),
        ]
        more = self.parameterAsString(parameters, "MORE", context) or ""
        plans += [p.strip() for p in more.split(";") if p.strip()]
        out = self.parameterAsString(parameters, "OUTPUT_FOLDER", context)
        _run(command.compare_arguments(plans, out), feedback)
        return {"OUTPUT_FOLDER": out, "REPORT": os.path.join(out, "compare.html")}


class ValidateAlgorithm(_CamplanAlgorithm):
    """``camplan:validate``: check layers and report every problem found."""

    def name(self):
        return "validate"

    def displayName(self):
        return "Validate layers"

    def shortHelpString(self):
        return (
            "Checks the files of the given layers as camplan reads them and lists every "
            "problem found, each with its fix. Layers that are not files are checked as "
            "written to a temporary GeoPackage."
        )

    def initAlgorithm(self, config=None):
        self.addParameter(
            QgsProcessingParameterMultipleLayers(
                "LAYERS", "Layers to check", QgsProcessing.TypeVectorAnyGeometry
            )
        )
        self.addOutput(QgsProcessingOutputNumber("PROBLEMS", "Number of problems"))
        self.addOutput(QgsProcessingOutputString("MESSAGES", "Problems, one a line"))

    def processAlgorithm(self, parameters, context, feedback):
        layers = self.parameterAsLayerList(parameters, "LAYERS", context)
        files = [
            original_file(layer) or layer_file(layer, f"layer_{i}", context, feedback)
            for i, layer in enumerate(layers)
        ]
        executable = _executable()
        try:
            command.run(
                executable, command.validate_arguments(files), echo=feedback.pushConsoleInfo
            )
            problems = []
        except command.CommandError as exc:
            problems = list(exc.errors)
        for line in problems:
            feedback.reportError(line)
        return {"PROBLEMS": len(problems), "MESSAGES": "\n".join(problems)}
