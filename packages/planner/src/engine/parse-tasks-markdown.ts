/**
 * A reader of GitHub Spec Kit task lists (tasks.md): `## Phase N: Name` sections holding
 * `- [ ] T001 [P] [US1] Description in src/file.ts` lines, turned into tasks with their
 * dependency graph and a schedule.
 */
import type { Plan, Task } from '@agentmesh/protocol';
import { buildSchedule, linkDependencies } from './build-schedule';
import { TasksMarkdownError } from './tasks-markdown-error';

/** One `## Phase N: Name` section. */
export interface TasksPhase {
  number: number;
  /** "Setup", "Foundational", "User Story 1", "Polish"...: the heading without its subtitle. */
  name: string;
  /** The whole heading text after "Phase N:". */
  heading: string;
  line: number;
  taskIds: string[];
}

/** What a tasks.md holds. */
export interface TasksDocument {
  /** The `# ` title, without a leading "Tasks:". */
  title: string;
  phases: TasksPhase[];
  /** In file order, dependencies linked. */
  tasks: Task[];
}

const phaseHeading = /^##\s+Phase\s+(\d+)\s*:\s*(.+?)\s*$/i;
const looksLikeTask = /^\s*[-*+]\s+(\[[^\]]*\]\s*)?T\d+\b|^\s*[-*+]\s+\[[ xX]?\]/;
const checkbox = /^\s*[-*+]\s+\[([ xX])\]\s+/;
const taskId = /^(T\d{3,})(?=\s|$)/;
const marker = /^\[([^\]]*)\]\s*/;
const pathToken = /(?:^|[\s`'"(])((?:\.{0,2}\/)?(?:[\w@.-]+\/)*[\w@-][\w@.-]*\.(?:[cm]?[jt]sx?|json|md|ya?ml|css|scss|html|sh|py|go|rs|toml|txt|proto))(?=$|[\s`'"),;:]|\.(?:\s|$))/g;

/** Workspace-relative file paths a task description mentions, in order, without duplicates. */
export function filesMentioned(description: string): string[] {
  const files: string[] = [];
  for (const match of description.matchAll(pathToken)) {
    const file = match[1].replace(/^\.\//, '');
    if (!files.includes(file)) files.push(file);
  }
  return files;
}

function phaseName(heading: string): string {
  return heading.replace(/\s*\(Priority:[^)]*\)\s*$/i, '').replace(/\s+[-–—]\s+.*$/, '').replace(/\s*🎯.*$/u, '').trim();
}

/** Reads one task line; throws a TasksMarkdownError saying what is wrong with it. */
function parseTaskLine(text: string, line: number, phase: TasksPhase | undefined): Task {
  const box = checkbox.exec(text);
  if (!box) throw new TasksMarkdownError(line, "a task must start with a checkbox '- [ ]' or '- [x]'", text);
  let rest = text.slice(box[0].length);
  const id = taskId.exec(rest);
  if (!id) throw new TasksMarkdownError(line, 'expected a task id such as T001 after the checkbox', text);
  rest = rest.slice(id[1].length).trimStart();
  let parallel = false;
  let story = '';
  for (let found = marker.exec(rest); found; found = marker.exec(rest)) {
    const label = found[1].trim();
    if (label === 'P') {
      if (parallel) throw new TasksMarkdownError(line, `task ${id[1]} has [P] twice`, text);
      parallel = true;
    } else if (/^US\d+$/.test(label)) {
      if (story) throw new TasksMarkdownError(line, `task ${id[1]} has two story labels, [${story}] and [${label}]`, text);
      story = label;
    } else {
      throw new TasksMarkdownError(line, `unknown marker [${found[1]}] on task ${id[1]}: expected [P] or a story label such as [US1]`, text);
    }
    rest = rest.slice(found[0].length);
  }
  const title = rest.trim();
  if (!title) throw new TasksMarkdownError(line, `task ${id[1]} has no description`, text);
  if (!phase) throw new TasksMarkdownError(line, `task ${id[1]} comes before any '## Phase N: Name' heading`, text);
  const files = filesMentioned(title);
  return {
    id: id[1],
    title,
    parallel,
    story,
    phase: phase.name,
    files,
    dependsOn: [],
    // The code-fix engine can work on a task that names files; one that names none needs a model.
    kind: files.length > 0 ? 'fix-diagnostics' : 'free-text',
    diagnostics: [],
    sourceLine: line,
  };
}

/**
 * Parses a Spec Kit tasks.md into phases and tasks with their dependencies. A malformed
 * task line, a duplicate id, or tasks outside a phase are a TasksMarkdownError naming the line.
 */
export function parseTasksMarkdown(markdown: string): TasksDocument {
  const lines = markdown.split(/\r?\n/);
  const phases: TasksPhase[] = [];
  const tasks: Task[] = [];
  const firstLine = new Map<string, number>();
  let title = '';
  let inFence = false;
  lines.forEach((text, index) => {
    const line = index + 1;
    if (/^\s*(```|~~~)/.test(text)) inFence = !inFence;
    if (inFence) return;
    if (!title && /^#\s+/.test(text)) title = text.replace(/^#\s+/, '').replace(/^Tasks:\s*/i, '').trim();
    const heading = phaseHeading.exec(text);
    if (heading) {
      phases.push({ number: Number(heading[1]), name: phaseName(heading[2]), heading: heading[2], line, taskIds: [] });
      return;
    }
    if (/^##\s+Phase\b/i.test(text)) throw new TasksMarkdownError(line, "a phase heading must read '## Phase N: Name'", text);
    if (!looksLikeTask.test(text)) return;
    const task = parseTaskLine(text, line, phases[phases.length - 1]);
    const earlier = firstLine.get(task.id);
    if (earlier !== undefined) throw new TasksMarkdownError(line, `duplicate task id ${task.id} (first on line ${earlier})`, text);
    firstLine.set(task.id, line);
    phases[phases.length - 1].taskIds.push(task.id);
    tasks.push(task);
  });
  if (tasks.length === 0) throw new TasksMarkdownError(1, "no tasks found: expected lines such as '- [ ] T001 Description'", lines[0] ?? '');
  return { title, phases, tasks: linkDependencies(tasks) };
}

/** Parses a tasks.md straight into a Plan with its schedule. */
export function planFromTasksMarkdown(markdown: string): Plan {
  const document = parseTasksMarkdown(markdown);
  return { goal: document.title ? `tasks: ${document.title}` : 'tasks', tasks: document.tasks, schedule: buildSchedule(document.tasks) };
}
