"""Write the analysis notebooks in notebooks/ from the cell sources below (no outputs).

The notebooks are thin: each cell calls the package's public API on the bundled synthetic
Anshan study. Edit the cells here and run ``python tools/make_notebooks.py``; CI executes the
notebooks with nbmake (``pytest --nbmake notebooks``).
"""

from __future__ import annotations

from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent.parent / "notebooks"

URBAN_GROWTH = [
    (
        "md",
        "# Urban growth: new housing, school-age demand and reserved school land\n\n"
        "A study for the natural resources bureau and the education bureau of the urban "
        "districts: how many pupils do the new residential developments bring, year by year, "
        "and is school land reserved where they will live, big enough, and delivered with the "
        "first phase (三同步)?\n\n"
        "**The bundled Anshan study is synthetic** (only the boundaries are real).",
    ),
    (
        "code",
        "from layout import land\n"
        "from layout.demand import demand_totals, project_demand\n"
        "from layout.demand.scenarios import scenarios_from_toml\n"
        "from layout.study import study_from_toml\n"
        "from layout.demand.yields import YieldModel\n\n"
        "study = study_from_toml()\n"
        "urban = ['210302', '210303', '210304']  # 铁东, 铁西, 立山\n"
        "study.name, study.plan_years",
    ),
    ("md", "## Yield of new housing, fitted on completed developments"),
    (
        "code",
        "model = YieldModel().fit(study['developments'], observed_year=study.school_year)\n"
        "model.report",
    ),
    ("md", "## School-age demand by scenario in the urban districts"),
    (
        "code",
        "scenarios = scenarios_from_toml(study.config['scenarios'])\n"
        "demand = project_demand(study['population'], study['developments'],\n"
        "                        scenarios=scenarios, years=study.plan_years, yield_model=model)\n"
        "totals = demand_totals(demand, by=('county_code',))\n"
        "urban_totals = totals[totals['county_code'].isin(urban)]\n"
        "urban_totals.pivot_table(\n"
        "    index='year', columns=['scenario', 'level'], values='children', aggfunc='sum',\n"
        "    observed=True,\n"
        ").round(0)",
    ),
    (
        "code",
        "# children that new developments bring, medium scenario\n"
        "medium = urban_totals[urban_totals['scenario'] == 'medium']\n"
        "medium.pivot_table(\n"
        "    index='year', columns='level', values='from_developments', aggfunc='sum',\n"
        "    observed=True,\n"
        ").round(0)",
    ),
    ("md", "## Reserved land and 三同步"),
    (
        "code",
        "one = demand[demand['scenario'] == 'medium']\n"
        "parcels = land.check_parcels(study['reserved_land'], schools=study['schools'],\n"
        "                             demand=one, townships=study['townships'],\n"
        "                             profile=study.standards, years=study.plan_years)\n"
        "parcels[['parcel_id', 'planned_level', 'planned_classes', 'area_m2', 'required_m2',\n"
        "         'land_ok', 'overlap_ok', 'demand_ok', 'passed']].head(12)",
    ),
    (
        "code",
        "developments = land.check_developments(study['developments'], "
        "schools=study['schools'],\n"
        "    parcels=study['reserved_land'], townships=study['townships'],\n"
        "    profile=study.standards, base_year=study.base_year, yield_model=model)\n"
        "late = developments[~developments['sync_ok']]\n"
        "print(f'{len(late)} of {len(developments)} developments fail 三同步')\n"
        "late[['development_id', 'first_delivery_year', 'school_parcel_id', 'sync_reason']]"
        ".head(10)",
    ),
]

CLOSURE_SCREENING = [
    (
        "md",
        "# Closure screening: which small schools could close, and at what cost\n\n"
        "Closing or merging a school (撤并) needs the education department's opinion and an "
        "impact assessment first. This notebook ranks every small school of a county by the "
        "impact of closing it alone, then writes the one-page impact statement of one closure."
        "\n\n**The bundled Anshan study is synthetic** (only the boundaries are real).",
    ),
    (
        "code",
        "import tempfile\n"
        "from pathlib import Path\n\n"
        "from layout.closure import closure_report, screen_closures\n"
        "from layout.study import study_from_toml\n\n"
        "study = study_from_toml()\n"
        "county = '210321'  # 台安县\n"
        "ranked = screen_closures(study, county_code=county, max_students=100)\n"
        "ranked.head(10)",
    ),
    (
        "code",
        "candidate = ranked.iloc[0]['school_id']\n"
        "folder = Path(tempfile.mkdtemp())\n"
        "impact = closure_report(study, school_ids=[candidate], out_dir=folder / 'out',\n"
        "                        maps_dir=folder / 'maps')\n"
        "impact.summary",
    ),
    ("code", "impact.receiving"),
    (
        "code",
        "print((folder / 'out' / 'closure' / 'statement.md').read_text(encoding='utf-8')[:1500])",
    ),
]

RURAL_SITES = [
    (
        "md",
        "# Rural county: small schools for young pupils, boarding schools for the older ones\n\n"
        "The two-tier plan of the policy for 岫岩 (Xiuyan), the mountainous county: where "
        "pupils of grades 1-3 would walk beyond 30 minutes, propose small schools or teaching "
        "points (set covering, existing schools kept); for grades 4-9 spread thinly, a township "
        "boarding school (p-median on township seats and idle campuses). Every proposal states "
        "children served, travel saved, classes, teachers, land and annual funding, and the "
        "solver's bound and gap.\n\n**The bundled Anshan study is synthetic** (only the "
        "boundaries are real).",
    ),
    (
        "code",
        "from layout.runs.plan import STEPS, PlanResult\n"
        "from layout.sites import candidate_sites, rural_plan\n"
        "from layout.study import study_from_toml\n\n"
        "study = study_from_toml()\n"
        "result = PlanResult(study=study)\n"
        "dict(STEPS)['demand'](result)\n"
        "county = '210323'  # 岫岩满族自治县",
    ),
    (
        "code",
        "candidates = candidate_sites(study, level='primary', county_code=county)\n"
        "candidates['kind'].value_counts()",
    ),
    (
        "code",
        "plan = rural_plan(study, result.demand, county_code=county, year=2030, p=1)\n"
        "columns = ['kind', 'candidate_kind', 'children_served', 'minutes_saved', 'classes',\n"
        "           'teachers_required', 'boarding_beds', 'land_m2', 'total_funding', 'gap']\n"
        "plan.proposals[columns].sort_values('children_served', ascending=False).head(12)",
    ),
    (
        "code",
        "plan.proposals.groupby('kind')[['children_served', 'teachers_required', "
        "'total_funding']].sum()",
    ),
]

CHECKS = {
    "urban_growth.ipynb": URBAN_GROWTH,
    "closure_screening.ipynb": CLOSURE_SCREENING,
    "rural_sites.ipynb": RURAL_SITES,
}


def notebook(cells: list[tuple[str, str]]) -> nbformat.NotebookNode:
    """Build a notebook without outputs from ``(kind, source)`` pairs."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [
        nbformat.v4.new_markdown_cell(src) if kind == "md" else nbformat.v4.new_code_cell(src)
        for kind, src in cells
    ]
    return nb


def main() -> None:
    """Write every notebook."""
    HERE.mkdir(exist_ok=True)
    for name, cells in CHECKS.items():
        nb = notebook(cells)
        for i, cell in enumerate(nb.cells):
            cell["id"] = f"{Path(name).stem}-{i}"
        nbformat.write(nb, HERE / name)


if __name__ == "__main__":
    main()
