//! Chinese first, English available: the language of a request and the
//! sentences the server says in it.

use axum::http::HeaderMap;
use fengqiao_core::error::Reason;
use fengqiao_core::label::Label;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

pub const LANG_COOKIE: &str = "lang";

impl Lang {
    /// The `lang` cookie (set by the page switch) wins; otherwise the first
    /// language of `Accept-Language` that we speak; otherwise Chinese.
    pub fn of_request(headers: &HeaderMap) -> Lang {
        let cookie_lang = headers
            .get_all(axum::http::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().strip_prefix("lang="))
            .find_map(Lang::from_code);
        if let Some(lang) = cookie_lang {
            return lang;
        }
        headers
            .get(axum::http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.split(',')
                    .map(|part| part.split(';').next().unwrap_or("").trim())
                    .find_map(|tag| {
                        let primary = tag.split('-').next().unwrap_or("");
                        Lang::from_code(primary)
                    })
            })
            .unwrap_or_default()
    }

    pub fn from_code(code: &str) -> Option<Lang> {
        match code.trim().to_ascii_lowercase().as_str() {
            "zh" => Some(Lang::Zh),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    pub fn html_code(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    /// Picks the sentence in this language.
    pub fn pick<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }

    /// The word for a value of the core in this language.
    pub fn label(self, value: impl Label) -> &'static str {
        self.pick(value.zh(), value.en())
    }

    /// Why a field was refused, as one sentence.
    pub fn reason(self, reason: &Reason) -> String {
        match (self, reason) {
            (Lang::Zh, Reason::Required) => "必填".into(),
            (Lang::En, Reason::Required) => "is required".into(),
            (Lang::Zh, Reason::TooShort { min }) => format!("至少 {min} 个字符"),
            (Lang::En, Reason::TooShort { min }) => format!("must be at least {min} characters"),
            (Lang::Zh, Reason::TooLong { max }) => format!("最多 {max} 个字符"),
            (Lang::En, Reason::TooLong { max }) => format!("must be at most {max} characters"),
            (Lang::Zh, Reason::TooLarge { max_bytes }) => {
                format!("文件过大，最大 {} MB", max_bytes / (1024 * 1024))
            }
            (Lang::En, Reason::TooLarge { max_bytes }) => {
                format!("is too large: at most {} MB", max_bytes / (1024 * 1024))
            }
            (lang, Reason::InvalidFormat { expected }) => format_hint(lang, expected),
            (Lang::Zh, Reason::UnknownValue { allowed }) => {
                format!("取值无效，可选：{}", allowed.join("、"))
            }
            (Lang::En, Reason::UnknownValue { allowed }) => {
                format!("is not one of: {}", allowed.join(", "))
            }
            (Lang::Zh, Reason::AlreadyExists) => "已存在".into(),
            (Lang::En, Reason::AlreadyExists) => "already exists".into(),
            (Lang::Zh, Reason::NotFound) => "指向的记录不存在或不在您的辖区内".into(),
            (Lang::En, Reason::NotFound) => {
                "refers to a record that does not exist or is outside your jurisdiction".into()
            }
            (lang, Reason::Conflict { detail }) => conflict(lang, detail),
        }
    }
}

fn format_hint(lang: Lang, expected: &str) -> String {
    let (zh, en) = match expected {
        "username" => (
            "只能包含字母、数字、点、下划线或连字符",
            "may contain only letters, digits, '.', '_' or '-'",
        ),
        "phone" => (
            "不是有效的电话号码（11 位手机号或带区号的固定电话）",
            "is not a valid phone number (11-digit mobile or a landline with area code)",
        ),
        "id_number" => (
            "不是有效的 18 位身份证号码",
            "is not a valid 18-character resident ID number",
        ),
        "division_code" => (
            "应为 6、9 或 12 位数字的行政区划代码",
            "must be a division code of 6, 9 or 12 digits",
        ),
        "datetime" => (
            "应为带时区的 RFC 3339 时间，如 2026-11-01T00:00:00+08:00",
            "must be an RFC 3339 time with its offset, e.g. 2026-11-01T00:00:00+08:00",
        ),
        "json" => ("不是有效的 JSON", "is not valid JSON"),
        "follow_up_days" => (
            "应为 1–6 个递增的天数，每个 1–365 天",
            "must be 1 to 6 ascending day counts, each 1 to 365",
        ),
        "photo" => (
            "不是 JPEG、PNG 或 WebP 格式的图片",
            "is not a JPEG, PNG or WebP image",
        ),
        "base64" => (
            "应为 Base64 编码的文件内容",
            "must be the file's content in Base64",
        ),
        "date" => (
            "应为日期，格式如 2026-11-26",
            "must be a date such as 2026-11-26",
        ),
        "position_in_china" => (
            "不是中国境内的有效坐标（WGS-84 纬度、经度）",
            "is not a valid position in China (WGS-84 latitude and longitude)",
        ),
        "call_sign" => (
            "应为 1–20 个字的呼号，如「锦里巡1」",
            "must be a call sign of 1 to 20 characters, such as 锦里巡1",
        ),
        "integer" => ("应为整数", "must be a whole number"),
        "string" => ("应为文本", "must be text"),
        "array" => ("应为列表", "must be a list"),
        _ => ("格式不正确", "has the wrong format"),
    };
    lang.pick(zh, en).to_owned()
}

fn conflict(lang: Lang, detail: &str) -> String {
    let (zh, en) = match detail {
        "separated_duties" => (
            "系统管理员、安全管理员和安全审计员不能由同一账号兼任",
            "administrator, security administrator and auditor cannot be held by one account",
        ),
        "not_grantable" => (
            "该权限不能授予机器令牌",
            "this permission cannot be granted to an API token",
        ),
        "own_account" => (
            "不能对自己的账号执行此操作",
            "cannot be applied to your own account",
        ),
        "idempotency_key_reused" => (
            "此幂等键已用于另一份内容不同的请求",
            "was already used for a request with a different body",
        ),
        "anonymous_source" => (
            "该来源为匿名或设备上报，不能附带此报警人信息",
            "cannot be given for an anonymous or machine source",
        ),
        "police_category" => (
            "警务类警情一律由指挥室处置，不能设置分流规则",
            "is police work, which always goes to the command room",
        ),
        "not_in_registry" => (
            "辖区标准地址库中未找到该地址的楼栋，请补充小区、楼栋或从候选地址中选择",
            "matches no building of your jurisdiction's registry: add the compound and building, or pick a suggestion",
        ),
        "period_order" => ("应晚于开始时间", "must be after the start of the period"),
        "unit_org_kind" => (
            "警力只能属于派出所、综合指挥室、联勤警务站或综治中心",
            "must be a police station, command room, joint-duty station or governance centre",
        ),
        "street_patrol_org" => (
            "综治路面力量属于综治中心，民警警力属于公安机构",
            "the street patrol force belongs to a governance centre, police units to police organisations",
        ),
        "not_crew" => (
            "该账号的角色不能上警力（须为社区民警、辅警或网格员）",
            "this account's role cannot be on a unit's crew (community officer, auxiliary officer or grid worker)",
        ),
        "unit_not_yours" => (
            "不是本所（本中心）可派的警力；他所警力请通过战区增援申请",
            "is not a unit you may dispatch; ask the war zone for another station's units",
        ),
        "not_war_zone_unit" => (
            "不是本战区其他派出所的空闲警力",
            "is not an available unit of another station of the war zone",
        ),
        "position_time" => (
            "时间不能晚于现在，也不能早于轨迹保留期",
            "must not be in the future nor older than the track retention",
        ),
        "day_in_the_past" => (
            "不能把任务派到已过去的日期",
            "cannot be a day that has passed",
        ),
        "organisation_party" => (
            "单位当事人不填身份证号",
            "is not given for an organisation party",
        ),
        "incident_station" => (
            "须为该警情所属的派出所",
            "must be the station of the incident",
        ),
        "after_session" => ("应晚于本次调解时间", "must be after this session"),
        "reporter_needs_incident" => (
            "只有从警情登记的案件才能把报警人列为当事人",
            "is only for a case registered from an incident",
        ),
        "reporter_unnamed" => (
            "报警人未留姓名，不能直接列为当事人，请手工填写当事人",
            "the caller gave no name: enter the party by hand",
        ),
        _ => ("与现有数据冲突", "conflicts with existing data"),
    };
    lang.pick(zh, en).to_owned()
}
