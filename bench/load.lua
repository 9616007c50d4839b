-- wrk script of bench/run (issue 11). MODE picks the scenario:
--   paths  : GET a random line of PATHS_FILE (one path per line); COOKIE (optional) is sent
--   submit : the citizen's form, POST /gop-y. Each wrk thread is one virtual user: it gets
--            its own session cookie and CSRF token (line <thread index> of VU_FILE, each line
--            "cookie<TAB>csrf", fetched by bench/run with a real GET of the form), and every
--            POST carries a fresh random form key, as a new form would.
--   floor_post : the floor's POST /submit (ref_app.py), same body as its own wrk_bench.lua
-- MAX_REQUESTS (optional) stops each thread after that many responses (the RSS run).
-- done() prints one line "RESULT rps=… p50_ms=… p95_ms=… p99_ms=… …" for bench/run.
local mode = os.getenv("MODE") or "paths"
local max_requests = tonumber(os.getenv("MAX_REQUESTS") or "0")
local threads = {}
local next_index = 0

function setup(thread)
  next_index = next_index + 1
  thread:set("index", next_index)
  table.insert(threads, thread)
end

local paths = {}
local cookie, csrf
local responses = 0
local hexdigits = "0123456789abcdef"

local function lines(name)
  local out = {}
  local f = assert(io.open(name, "r"))
  for line in f:lines() do
    if #line > 0 then table.insert(out, line) end
  end
  f:close()
  return out
end

local function urlencode(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

local function form_key()
  local t = {}
  for i = 1, 32 do
    local k = math.random(1, 16)
    t[i] = hexdigits:sub(k, k)
  end
  return table.concat(t)
end

local submit_body
function init(args)
  math.randomseed(os.time() * 1000 + (index or 0))
  if mode == "paths" then
    paths = lines(os.getenv("PATHS_FILE"))
    if os.getenv("COOKIE") then wrk.headers["Cookie"] = os.getenv("COOKIE") end
  elseif mode == "submit" then
    local vus = lines(os.getenv("VU_FILE"))
    local line = vus[((index or 1) - 1) % #vus + 1]
    cookie, csrf = line:match("^([^\t]+)\t(.+)$")
    wrk.headers["Cookie"] = cookie
    wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
    local fields = {
      {"kind", "kien_nghi"}, {"subject", "quy_dinh"}, {"field", "LV02"},
      {"title", "Thủ tục cấp giấy phép xây dựng nhà ở riêng lẻ kéo dài"},
      {"content", "Tôi đã nộp hồ sơ cấp giấy phép xây dựng tại Bộ phận một cửa từ 30 ngày trước nhưng "
        .. "đến nay vẫn chưa nhận được kết quả. Cán bộ yêu cầu bổ sung nhiều lần, mỗi lần một loại giấy tờ khác nhau."},
      {"proposal", "Đề nghị công khai danh mục giấy tờ và cho phép nộp bổ sung trực tuyến."},
      {"submitter_name", "Nguyễn Văn An"}, {"submitter_address", "Số 12, ấp 3, xã An Bình"},
      {"submitter_phone", "0912345678"}, {"submitter_email", "an.nguyen@example.vn"},
      {"declaration", "y"}, {"website", ""}, {"csrf_token", csrf},
    }
    local parts = {}
    for _, kv in ipairs(fields) do table.insert(parts, kv[1] .. "=" .. urlencode(kv[2])) end
    submit_body = table.concat(parts, "&")
  elseif mode == "floor_post" then
    wrk.method = "POST"
    wrk.path = "/submit"
    wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
    wrk.body = "title=Broken+street+light&body=The+street+light+outside+number+12+"
      .. "has+been+off+for+a+week.&submitter_name=Alex+Example&email=alex%40example.org"
  end
end

function request()
  if mode == "paths" then
    return wrk.format("GET", paths[math.random(1, #paths)])
  elseif mode == "submit" then
    return wrk.format("POST", "/gop-y", nil, submit_body .. "&form_key=" .. form_key())
  end
  return wrk.format()
end

-- Only defined when needed: with a response() callback wrk parses every response.
if max_requests > 0 then
  function response(status, headers, body)
    responses = responses + 1
    if responses >= max_requests then wrk.thread:stop() end
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT mode=%s requests=%d duration_s=%.3f rps=%.1f p50_ms=%.2f p95_ms=%.2f p99_ms=%.2f max_ms=%.2f "
      .. "err_connect=%d err_read=%d err_write=%d err_status=%d err_timeout=%d\n",
    mode, summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, e.connect, e.read, e.write, e.status, e.timeout))
end
