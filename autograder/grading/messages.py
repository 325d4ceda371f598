"""Every sentence the grader shows a student or an instructor, in both languages."""
from __future__ import annotations

MESSAGES = {
    "ok": {"en": "ok  ", "zh": "通过"},
    "fail": {"en": "FAIL", "zh": "失败"},
    "score": {"en": "{passed} of {total} hidden tests passed: {earned:g} of {points:g} points",
              "zh": "隐藏测试通过 {passed}/{total} 个，得分 {earned:g}/{points:g}"},
    "misconception": {"en": "Likely cause (these failures match a known mistake): {hint}",
                      "zh": "可能的原因（这些失败与一个常见错误完全吻合）：{hint}"},
    "all_failed": {"en": "all {total} hidden tests failed", "zh": "{total} 个隐藏测试全部未通过"},
    "visible_failed": {"en": "(your visible self-check failed: {error}; it does not count, the hidden tests do)",
                       "zh": "（可见的自检没有通过：{error}；它不计分，计分的是隐藏测试）"},
    "student_error": {"en": "{name} raised {type}: {message}", "zh": "{name} 抛出了 {type}：{message}"},
    "student_error:safe": {"en": "{name} raised {type}", "zh": "{name} 抛出了 {type}"},
    "own_exception": {"en": "an exception of its own class", "zh": "自定义类型的异常"},
    "assert_failed": {"en": "the result is not what this test expects", "zh": "结果不符合这个测试的要求"},
    "test_error:safe": {"en": "{type} while checking the result", "zh": "检查结果时出现 {type}"},
    "crash:timeout": {"en": "stopped: it ran longer than {seconds:g} s (an infinite loop?)",
                      "zh": "已终止：运行超过 {seconds:g} 秒（是不是死循环？）"},
    "crash:signal:SIGSEGV": {"en": "your code crashed the Python process (segmentation fault)",
                             "zh": "你的代码让 Python 进程崩溃了（段错误）"},
    "crash:signal:SIGABRT": {"en": "the process aborted (often: out of memory, limit {memory_mb} MB)",
                             "zh": "进程异常中止（常见原因：内存超出 {memory_mb} MB 的限制）"},
    "crash:signal:SIGKILL": {"en": "the process was killed (memory or CPU limit reached)",
                             "zh": "进程被强制结束（超出了内存或 CPU 时间限制）"},
    "crash:signal:SIGXCPU": {"en": "the process used more than {cpu_seconds} s of CPU time",
                             "zh": "进程占用的 CPU 时间超过了 {cpu_seconds} 秒"},
    "crash:processes": {"en": "stopped: it started more than {processes} processes",
                        "zh": "已终止：启动的进程超过了 {processes} 个"},
    "crash:exit": {"en": "the process exited (exit code {code}) — do not call os._exit / sys.exit in your answer",
                   "zh": "进程退出了（退出码 {code}）——答案里不要调用 os._exit / sys.exit"},
    "crash:exit:safe": {"en": "the process exited — do not call os._exit / sys.exit in your answer",
                        "zh": "进程退出了——答案里不要调用 os._exit / sys.exit"},
    "crash:other": {"en": "the process ended unexpectedly ({how})", "zh": "进程意外结束（{how}）"},
    "crash:protocol": {"en": "the grader could not read your process's reply ({detail})",
                       "zh": "评分程序无法读取你的进程的回复（{detail}）"},
    "crash:budget": {"en": "not run: the submission used up its time or restart budget",
                     "zh": "未运行：这份提交的时间或重启次数已经用完"},
    "files_too_large": {"en": "not graded: the files beside the notebook take {size_mb:.0f} MB, more than the "
                              "{limit_mb:.0f} MB a submission may carry; remove data files and submit again",
                        "zh": "未评分：笔记本旁边的文件共 {size_mb:.0f} MB，超过了每份提交 {limit_mb:.0f} MB 的上限；"
                              "请删掉数据文件后重新提交"},
    "cell_crashed": {"en": "[grader] this cell ended the process: {why}; it was skipped and grading went on",
                     "zh": "[评分] 这个单元结束了进程：{why}；已跳过，评分继续"},
    "unreadable": {"en": "[grader] this submission could not be read ({detail}); it was graded as an empty notebook",
                   "zh": "[评分] 无法读取这份提交（{detail}），按空白笔记本评分"},
    "converted": {"en": "[grader] this submission was an nbformat 3 notebook; it was converted and graded as usual",
                  "zh": "[评分] 这份提交是 nbformat 3 格式的笔记本，已转换为新格式并正常评分"},
    "tests_cell_missing": {"en": "[grader] a tests cell was missing or changed; the instructor's copy was used",
                           "zh": "[评分] 有测试单元缺失或被改动，已使用教师的原始版本"},
    "tests_cell_not_code": {"en": "[grader] a tests cell was turned into text; the instructor's copy was used",
                            "zh": "[评分] 有测试单元被改成了文本，已使用教师的原始版本"},
    "fixed_cell_missing": {"en": "[grader] a set-up cell was missing; the instructor's copy was run first",
                           "zh": "[评分] 缺少初始化单元，已先运行教师的原始版本"},
    "not_isolated": {"en": "[grader] WARNING: submissions are graded WITHOUT a sandbox ({detail}): they can read "
                           "the course directory and use the network",
                     "zh": "[评分] 警告：提交在没有沙箱的情况下评分（{detail}），可以读取课程目录、访问网络"},
}


def say(key: str, lang: str, **values) -> str:
    table = MESSAGES[key]
    text = table.get(lang, table["en"])
    try:
        return text.format(**values)
    except (KeyError, IndexError, ValueError):
        return text
