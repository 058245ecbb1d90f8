"""Write ``computers-comments-logs.aiida`` with aiida-core (run with its python).

    AIIDA_PATH=$(mktemp -d) verdi presto --profile-name small
    AIIDA_PATH=<same> python tests/data/make_computers_comments_logs.py OUT.aiida

Two users (with institutions), two computers, an auth info, a code, a
workflow calling two calculations on different computers, comments by both
users and log records of several levels.
"""

import sys

from aiida import load_profile, orm
from aiida.common.links import LinkType
from aiida.tools.archive import create_archive

load_profile()

lead = orm.User.collection.get_default()
lead.first_name, lead.last_name, lead.institution = "Ada", "Lead", "Small Lab"
guest = orm.User(
    email="guest@example.org", first_name="Gus", last_name="Guest", institution="Far U"
).store()
computers = []
for label, scheduler, transport in (
    ("small-hpc", "core.slurm", "core.ssh"),
    ("small-box", "core.direct", "core.local"),
):
    computer = orm.Computer(
        label=label,
        hostname=f"{label}.example.org",
        description=f"{label} for tests",
        scheduler_type=scheduler,
        transport_type=transport,
        workdir="/scratch/{username}/aiida",
    ).store()
    computer.set_minimum_job_poll_interval(5.0)
    computers.append(computer)
computers[0].configure(user=lead)
code = orm.InstalledCode(
    label="pw", computer=computers[0], filepath_executable="/usr/bin/pw.x"
).store()
code.base.comments.add("compiled with -O2", user=lead)

workflow = orm.WorkflowNode()
workflow.set_process_type("aiida.workflows:test.relax")
workflow.store()
workflow.logger.report("starting")
for index, computer in enumerate(computers):
    parameters = orm.Dict({"ecut": 30 + index}).store()
    calc = orm.CalcJobNode(computer=computer)
    calc.set_process_type("aiida.calculations:test.pw")
    calc.base.links.add_incoming(parameters, LinkType.INPUT_CALC, "parameters")
    calc.base.links.add_incoming(code, LinkType.INPUT_CALC, "code")
    calc.base.links.add_incoming(workflow, LinkType.CALL_CALC, f"run_{index}")
    calc.store()
    calc.logger.warning(f"run {index}: slow convergence")
    if index:
        calc.logger.error(f"run {index}: output missing")
    calc.base.comments.add(f"run {index} by guest", user=guest)
    result = orm.Dict({"energy": -10.5 - index})
    result.base.links.add_incoming(calc, LinkType.CREATE, "output_parameters")
    result.store()
    calc.seal()
workflow.seal()

create_archive(
    None,
    filename=sys.argv[1],
    include_authinfos=True,
    include_comments=True,
    include_logs=True,
)
