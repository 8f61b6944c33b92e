// The C update half's default flash layout (firmware/include/weightgate_update.h,
// wg_update_layout_default; docs/format.md section 10.6), computed on the
// host so a firmware team can check a part before building: two state-record
// sectors, slots A and B as large as fit, then an optional staging region
// for downloads. With 4 KiB sectors and no staging it is device-sim's own
// layout (flash.ts: slotCapacityOf).
import { DeviceError, DeviceErrorCode } from './errors.ts';

export interface FlashLayout {
  flashBytes: number;
  sectorBytes: number;
  stateOffsets: [number, number];
  slotOffsets: [number, number];
  slotBytes: number;
  /** 0 with stagingBytes 0: a download waits in the inactive slot's tail. */
  stagingOffset: number;
  stagingBytes: number;
}

/** wg_update_layout_default, integer for integer; DeviceError BAD_INPUT where the C returns an error. */
export function defaultFlashLayout(flashBytes: number, sectorBytes: number, stagingBytes = 0): FlashLayout {
  const bad = (message: string) => new DeviceError(DeviceErrorCode.BAD_INPUT, message, 2);
  if (!Number.isInteger(sectorBytes) || sectorBytes < 1 || (sectorBytes & (sectorBytes - 1)) !== 0) {
    throw bad(`sector size ${sectorBytes} must be a power of two`);
  }
  if (!Number.isInteger(flashBytes) || flashBytes < 0 || flashBytes > 0xffffffff) throw bad(`flash size ${flashBytes} must fit 32 bits`);
  const sectors = Math.floor(flashBytes / sectorBytes);
  const stagingSectors = Math.ceil(stagingBytes / sectorBytes);
  if (sectors < 4 || stagingSectors > sectors - 4) {
    throw bad(
      `${flashBytes} bytes of flash in ${sectorBytes}-byte sectors hold ${sectors} sectors: two state records, two slots and ${stagingSectors} staging sectors need ${4 + stagingSectors}`,
    );
  }
  const slotSectors = Math.floor((sectors - 2 - stagingSectors) / 2);
  const slotBytes = slotSectors * sectorBytes;
  const slotA = 2 * sectorBytes;
  return {
    flashBytes,
    sectorBytes,
    stateOffsets: [0, sectorBytes],
    slotOffsets: [slotA, slotA + slotBytes],
    slotBytes,
    stagingOffset: stagingSectors ? slotA + 2 * slotBytes : 0,
    stagingBytes: stagingSectors * sectorBytes,
  };
}
