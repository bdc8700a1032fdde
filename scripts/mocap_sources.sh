# Sourced by make_demo_data.sh and leave_one_source_out.sh: the mocap sources of ../shared/data/mocap
# and how each is synthesised. One line each: folder, joint map, subject id, body mass (kg), insole size.
# The demo models were trained on the first five; SNU basketball came later.
demo_mocap_sources=(
  "cmu cmu cmu 72 7"
  "cmu-69 cmu cmu69 80 8"
  "cmu-16-cuts cmu cmu16 68 6"
  "cmu-daz daz daz 75 7"
  "snu-woody2 snu snu 70 6"
)
all_mocap_sources=("${demo_mocap_sources[@]}" "snu-basketball snu bball 78 8")
